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


# from blank to full ink; a blank is a figure space (a plain space would be collapsed in the hover)
_RAMP_CODES = np.array([ord(c) for c in "\u2007░▒▓█"], dtype=np.uint32)


def ascii_digits(x: np.ndarray) -> list[str]:
    """n digits (n, 28, 28) drawn with block characters (14x14 each, blank rows above and below
    left out), for Plotly's hover labels. All at once: the Embeddings page draws a thousand, and
    one digit at a time took ~0.09 s of the web server's CPU on every run of the page (0.017 s)."""
    x = np.asarray(x)
    n = len(x)
    small = x.reshape(n, 14, 2, 14, 2).mean(axis=(2, 4))
    idx = np.clip((small / 256 * len(_RAMP_CODES)).astype(int), 0, len(_RAMP_CODES) - 1)
    rows = np.ascontiguousarray(_RAMP_CODES[idx]).view("<U14")[..., 0]  # (n, 14) strings of 14
    inked = (idx > 0).any(axis=2)  # (n, 14): rows with any ink
    pictures = []
    for k in range(n):
        found = np.flatnonzero(inked[k])
        pictures.append("<br>".join(rows[k, found[0] : found[-1] + 1]) if len(found) else "")
    return pictures
