"""Digits as pictures: enlarged for st.image, as block characters for hover labels."""

from __future__ import annotations

import numpy as np
import streamlit as st


def digit_image(x: np.ndarray, scale: int = 4) -> np.ndarray:
    """A 28x28 uint8 digit enlarged without smoothing, for st.image."""
    return np.kron(np.clip(x, 0, 255).astype(np.uint8), np.ones((scale, scale), np.uint8))


def image_row(images, captions, alts, scale: int = 3) -> None:
    """A row of digits with their captions and their alt texts (what each picture shows)."""
    for column, image, caption, alt in zip(st.columns(len(images)), images, captions, alts, strict=True):
        column.image(digit_image(image, scale), caption=caption, alt=alt)


def ascii_digit(x: np.ndarray) -> str:
    """A 28x28 digit drawn with block characters (14x14), for plotly hover labels."""
    small = x.reshape(14, 2, 14, 2).mean(axis=(1, 3))
    ramp = np.array(list(" ░▒▓█"))
    idx = np.clip((small / 256 * len(ramp)).astype(int), 0, len(ramp) - 1)
    rows = ["".join(ramp[r]) for r in idx]
    while rows and not rows[0].strip():
        rows.pop(0)
    while rows and not rows[-1].strip():
        rows.pop()
    return "<br>".join(r.replace(" ", "\u2007") for r in rows)
