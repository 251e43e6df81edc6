"""The Train page's form state, which Home's preset buttons also set: every configuration field
is one widget whose key is also the link's query parameter (``bind="query-params"``)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from siamese_core.config import PRESETS, SiameseConfig

FORM = "train."  # widget key prefix: train.preset, train.epochs, ... (also the link's parameters)
PRESET = FORM + "preset"
FIELDS = tuple(f.name for f in dataclasses.fields(SiameseConfig))


def load_preset(name: str) -> None:
    """Fill every field from a preset, discarding edits: the Preset box and Home's buttons."""
    st.session_state[PRESET] = name
    for field in FIELDS:
        value = getattr(PRESETS[name], field)
        st.session_state[FORM + field] = list(value) if field == "held_out_classes" else value
