"""What a screen reader says by itself: a polite status region (WCAG 4.1.3, status messages) for
training progress and verdicts.

Its text changes at most once every ``EVERY`` seconds while a run goes (the page itself is redrawn
every second, and a region that spoke every second would drown the student), and at once when the
news is new: a run starts, pauses, ends, or a verdict changes. Streamlit's own alerts carry no
live-region role, hence this small element; it is visually hidden, because the page shows the same
words in its panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from html import escape

import streamlit as st

from siamese_core.i18n import current_language

EVERY = 10.0  # seconds between two progress announcements of one region
STORE = "a11y.announced"  # region key -> (text, kind, when it changed)
CLASS = "sl-status"  # the browser tests find the regions by it
HIDDEN = (
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0,0,0,0);border:0"
)


def next_text(
    previous: tuple[str, str, float] | None, text: str, kind: str, now: float
) -> tuple[str, str, float]:
    """The region's (text, kind, since) after this redraw: ``text`` at once when ``kind`` (a run's
    status, a verdict) is new, else only once ``EVERY`` seconds have passed since the last change."""
    if previous is None or previous[1] != kind:
        return text, kind, now
    if text != previous[0] and now - previous[2] >= EVERY:
        return text, kind, now
    return previous


def announce(key: str, text: str, kind: str, clock: Callable[[], float] = time.monotonic) -> str:
    """Draw region ``key`` with what it should say now; returns that text."""
    store = st.session_state.setdefault(STORE, {})
    # A switch of language is news too: the region must not keep speaking the other language.
    store[key] = next_text(store.get(key), text, f"{kind}|{current_language()}", clock())
    said = store[key][0]
    st.html(
        f'<div class="{CLASS}" role="status" aria-live="polite" aria-atomic="true" style="{HIDDEN}">'
        f"{escape(said)}</div>"
    )
    return said
