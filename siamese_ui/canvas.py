"""A drawing canvas whose drawing stays in the session: a student who goes to another page and
comes back finds it as they left it, on screen and in what the page computes from it.

The canvas is a component (streamlit-drawable-canvas), and Streamlit forgets a component's value
when its page is left (``persist_state=`` exists for Streamlit's own widgets only). So the last
drawing it sent is kept under the page's own session key, and a canvas that appears anew (back
from another page) gets it as its ``initial_drawing``. That initial drawing is fixed for as long
as the canvas stays on screen: the component redraws itself, and drops its undo history and any
stroke in flight, whenever ``initial_drawing`` changes, so it must not follow every stroke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from siamese_core.i18n import _

GENERATION = ".generation"  # + name: a counter; bumping it gives a fresh, empty canvas
KEPT = ".kept"  # + name: the last Drawing the canvas sent
SEED = ".seed"  # + name: the initial drawing of the canvas on screen now


@dataclass(frozen=True)
class Drawing:
    """What a canvas last sent: its objects (Fabric.js JSON, to draw it again) and its pixels."""

    objects: dict[str, Any] | None
    image: np.ndarray | None  # RGBA, None while nothing is drawn


def component_key(name: str, generation: int) -> str:
    return f"{name}.{generation}"


def canvas_ui(
    name: str, *, stroke_width: int, size: int = 252, clear_key: str | None = None
) -> np.ndarray | None:
    """A square canvas, white ink on black; returns its RGBA image, or None while it is empty.

    ``name`` is the page's session-key prefix for this canvas ("compare.canvas.a"); with
    ``clear_key``, a Clear button (that key) under it gives an empty canvas."""
    from streamlit_drawable_canvas import st_canvas  # imports only inside a running app

    generation = st.session_state.setdefault(name + GENERATION, 0)
    key = component_key(name, generation)
    kept = st.session_state.get(name + KEPT)
    if key not in st.session_state:  # appears anew: the page's first run since the student came back
        st.session_state[name + SEED] = kept.objects if kept is not None else None
    result = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=size,
        width=size,
        drawing_mode="freedraw",
        initial_drawing=st.session_state.get(name + SEED),
        key=key,
        update_streamlit=True,
        return_image_data=True,
    )
    image = result.image_data
    if image is not None:  # the student drew (or cleared with the canvas's own tools) since it appeared
        image = np.asarray(image)
        kept = st.session_state[name + KEPT] = Drawing(
            result.json_data, image if image[..., :3].any() else None
        )
    if clear_key is not None:
        st.button(_("Clear"), key=clear_key, on_click=clear_canvas, args=(name,))
    return None if kept is None else kept.image


def clear_canvas(name: str) -> None:
    """An empty canvas in place of this one (a button's on_click, or before the canvas is drawn)."""
    st.session_state[name + GENERATION] = st.session_state.get(name + GENERATION, 0) + 1
    st.session_state.pop(name + KEPT, None)
    st.session_state.pop(name + SEED, None)
