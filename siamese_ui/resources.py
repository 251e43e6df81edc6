"""What the whole server shares, read-only, computed once (``st.cache_resource``): data sets,
the pretrained model, the device, the worker pool that runs every training, and the registry of students' trainings.
A model a student trains lives in that student's session, never here."""

from __future__ import annotations

import streamlit as st

from .settings import max_concurrent_trainings, worker_max_jobs, worker_memory_mark_mb

# Full MNIST split is ~55 MB; four (set, seed, held-out, validation) variants at most stay
# in memory, the least recently used goes first.
MAX_DATASETS = 4


@st.cache_resource(show_spinner="Loading the data set…", max_entries=MAX_DATASETS)
def dataset(name: str, seed: int = 0, held_out: tuple[int, ...] = (), val_size: int = 5000):
    """One read-only copy per (set, split) for the whole server."""
    from siamese_core.data import load_dataset

    ds = load_dataset(name, seed, held_out, val_size=val_size)
    for split in (ds.train, ds.val, ds.test):
        split.x.flags.writeable = False
        split.y.flags.writeable = False
    return ds


@st.cache_resource(ttl=600, show_spinner="Looking for full MNIST…")
def resolved_dataset_name() -> tuple[str, str]:
    """What ``auto`` means on this server: (name, reason). Decided once per 10 minutes, not
    on every rerun: the check reads (or, the first time, downloads) full MNIST, and a
    classroom without internet must not wait for a download timeout on every page."""
    from siamese_core.data import DatasetUnavailable, load_arrays

    try:
        load_arrays("mnist")
        return "mnist", "Full MNIST is available (70,000 digits)."
    except DatasetUnavailable as exc:
        return "mnist-5k", f"Using the embedded 5,000-digit MNIST subset: {exc}."


def resolve(name: str) -> str:
    return resolved_dataset_name()[0] if name == "auto" else name


@st.cache_resource(show_spinner="Starting TensorFlow…")
def device() -> str:
    from siamese_core.training import describe_device

    return describe_device()


@st.cache_resource(show_spinner="Loading the pretrained model…")
def default_model():
    """The bundled pretrained model: read-only, shared by all users."""
    from siamese_core.persistence import config_from_meta, load_default

    model, meta = load_default()
    return model, meta, config_from_meta(meta)


@st.cache_resource
def worker_pool():
    """The server's worker processes and their queue: every training runs there, never in the
    web server's own memory (siamese_core/workers.py)."""
    from siamese_core.workers import WorkerPool

    return WorkerPool(
        max_concurrent_trainings(), max_jobs=worker_max_jobs(), memory_mark_mb=worker_memory_mark_mb()
    )


@st.cache_resource
def student_registry():
    from .student import StudentRegistry

    return StudentRegistry()
