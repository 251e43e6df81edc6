"""What the whole server shares, read-only, computed once (``st.cache_resource``): data sets,
the pretrained model, the device, the worker pool that runs every training, and the registry of students' trainings.
A model a student trains lives in that student's session, never here."""

from __future__ import annotations

import logging

import streamlit as st

from siamese_core.network.data import Unavailable

from .settings import max_concurrent_trainings, worker_max_jobs, worker_memory_mark_mb

# Full MNIST split is ~55 MB; four (set, seed, held-out, validation) variants at most stay
# in memory, the least recently used goes first.
MAX_DATASETS = 4
_log = logging.getLogger("siamese_ui.resources")


@st.cache_resource(show_spinner="Loading the data set…", max_entries=MAX_DATASETS)
def dataset(name: str, seed: int = 0, held_out: tuple[int, ...] = (), val_size: int = 5000):
    """One read-only copy per (set, split) for the whole server."""
    from siamese_core.network.data import load_dataset

    ds = load_dataset(name, seed, held_out, val_size=val_size)
    for split in (ds.train, ds.val, ds.test):
        split.x.flags.writeable = False
        split.y.flags.writeable = False
    return ds


RESOLVE_EVERY_SECONDS = 600  # how often "auto" looks for full MNIST again


def fallback_reason(why: Unavailable) -> str:
    """Why the embedded digits are in use, in words a teacher reads on Home and Train."""
    minutes = RESOLVE_EVERY_SECONDS // 60
    return {
        Unavailable.OFFLINE: "No internet connection, so the app uses the embedded 5,000 MNIST digits. "
        f"It looks for full MNIST (70,000 digits) again every {minutes} minutes.",
        Unavailable.NOT_SERVED: "Full MNIST could not be downloaded (the download server did not send it), "
        f"so the app uses the embedded 5,000 MNIST digits. It tries again every {minutes} minutes.",
        Unavailable.UNREADABLE: "The copy of full MNIST on this server cannot be read or written, so the "
        "app uses the embedded 5,000 MNIST digits. The server's log says why.",
    }[why]


@st.cache_resource(ttl=RESOLVE_EVERY_SECONDS, show_spinner="Looking for full MNIST…")
def resolved_dataset_name() -> tuple[str, str]:
    """What ``auto`` means on this server: (name, reason). Decided once per 10 minutes, not
    on every rerun: the check reads (or, the first time, downloads) full MNIST, and a
    classroom without internet must not wait for a download timeout on every page. The
    reason is a sentence for the page; the raw error (host names, errno) goes to the log."""
    from siamese_core.network.data import DatasetUnavailable, load_arrays

    try:
        load_arrays("mnist")
        return "mnist", "Full MNIST is available (70,000 digits)."
    except DatasetUnavailable as exc:
        _log.warning("Full MNIST is not available, using the embedded subset: %s", exc)
        return "mnist-5k", fallback_reason(exc.why)


def resolve(name: str) -> str:
    return resolved_dataset_name()[0] if name == "auto" else name


@st.cache_resource(show_spinner="Starting TensorFlow…")
def device() -> str:
    from siamese_core.network.training import describe_device

    return describe_device()


@st.cache_resource(show_spinner="Loading the pretrained model…")
def default_model():
    """The bundled pretrained model: read-only, shared by all users."""
    from siamese_core.network.persistence import config_from_meta, load_default

    model, meta = load_default()
    return model, meta, config_from_meta(meta)


@st.cache_resource
def worker_pool():
    """The server's worker processes and their queue: every training runs there, never in the
    web server's own memory (siamese_core/serving/pool.py)."""
    from siamese_core.serving.pool import WorkerPool

    return WorkerPool(
        max_concurrent_trainings(), max_jobs=worker_max_jobs(), memory_mark_mb=worker_memory_mark_mb()
    )


@st.cache_resource
def student_registry():
    from .student import StudentRegistry

    return StudentRegistry()
