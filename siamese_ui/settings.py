"""The server's settings a teacher may change: environment variable, else a root-level
Streamlit secret (``.streamlit/secrets.toml`` or Community Cloud's Secrets box), else default."""

from __future__ import annotations

import os

import streamlit as st

DEFAULT_MAX_TRAININGS = 2  # two full-MNIST trainings fit Community Cloud's memory (BENCHMARKS.md)
DEFAULT_DISCONNECT_GRACE = 15.0


def setting(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        try:
            raw = st.secrets.get(name)
        except Exception:  # no secrets file: the usual case on a laptop
            raw = None
    try:
        return max(minimum, float(raw)) if raw is not None else default
    except (TypeError, ValueError):
        return default


def max_concurrent_trainings() -> int:
    """``SIAMESE_LAB_MAX_TRAININGS``: trainings the server runs at once (default 2)."""
    return int(setting("SIAMESE_LAB_MAX_TRAININGS", DEFAULT_MAX_TRAININGS, 1))


def disconnect_grace() -> float:
    """``SIAMESE_LAB_DISCONNECT_GRACE``: seconds a training outlives its closed tab (default 15),
    so that a dropped connection that comes back keeps its run."""
    return setting("SIAMESE_LAB_DISCONNECT_GRACE", DEFAULT_DISCONNECT_GRACE, 0.0)
