"""The server's settings a teacher may change: environment variable, else a root-level
Streamlit secret (``.streamlit/secrets.toml`` or Community Cloud's Secrets box), else default."""

from __future__ import annotations

import os

import streamlit as st

DEFAULT_MAX_TRAININGS = 2  # a SIAMESE_LAB_MAX_TRAININGS that is not a number
DEFAULT_DISCONNECT_GRACE = 15.0


def text_setting(name: str) -> str | None:
    """The environment variable ``name``, else the root-level secret, else None."""
    raw = os.environ.get(name)
    if raw is None:
        try:
            raw = st.secrets.get(name)
        except Exception:  # no secrets file: the usual case on a laptop
            raw = None
    return None if raw is None or raw == "" else str(raw)


def setting(name: str, default: float, minimum: float) -> float:
    raw = text_setting(name)
    try:
        return max(minimum, float(raw)) if raw is not None else default
    except (TypeError, ValueError):
        return default


def max_concurrent_trainings() -> int:
    """``SIAMESE_LAB_MAX_TRAININGS``: trainings the server runs at once, one worker process each;
    the others wait in line. Unset: as many as the container's cores and memory allow
    (:func:`siamese_core.serving.container.plan_workers`; 0 when not even one fits)."""
    if text_setting("SIAMESE_LAB_MAX_TRAININGS") is not None:  # 0: a server that trains nothing
        return int(setting("SIAMESE_LAB_MAX_TRAININGS", DEFAULT_MAX_TRAININGS, 0))
    return container_plan().workers


@st.cache_resource
def container_limits():
    """The memory limit and CPU quota the server runs under, read once at start."""
    from siamese_core.serving.container import read_limits

    return read_limits()


def container_plan():
    from siamese_core.serving.container import plan_workers

    return plan_workers(container_limits())


def worker_max_jobs() -> int:
    """``SIAMESE_LAB_WORKER_MAX_JOBS``: a worker process is replaced after this many jobs."""
    from siamese_core.serving.retirement import DEFAULT_MAX_JOBS

    return int(setting("SIAMESE_LAB_WORKER_MAX_JOBS", DEFAULT_MAX_JOBS, 1))


def worker_memory_mark_mb() -> float:
    """``SIAMESE_LAB_WORKER_MEMORY_MB``: ... or as soon as it holds more memory than this (the pool
    never goes below a process's size after a training plus ``GROWTH_MB``). Unset: its share of
    the container's memory (:attr:`siamese_core.serving.container.Plan.memory_mark_mb`)."""
    return setting("SIAMESE_LAB_WORKER_MEMORY_MB", container_plan().memory_mark_mb, 100.0)


def disconnect_grace() -> float:
    """``SIAMESE_LAB_DISCONNECT_GRACE``: seconds a training outlives its closed tab (default 15),
    so that a dropped connection that comes back keeps its run."""
    return setting("SIAMESE_LAB_DISCONNECT_GRACE", DEFAULT_DISCONNECT_GRACE, 0.0)
