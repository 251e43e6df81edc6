"""What the whole server shares, read-only, computed once (``st.cache_resource``): data sets,
the pretrained model's handle, the device, the model service (the worker pool that runs every
training and answers every page's use of a model), and the registry of students' trainings.
The web server never imports TensorFlow: models are handles to models the service keeps.

What is cached is shared by every student, whatever their language: the cached functions return
data (a name, an enum), never a sentence, and their spinners are drawn outside them in the caller's
language (:func:`_spinner`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import streamlit as st

from siamese_core.i18n import N_, _
from siamese_core.jobs import job_text
from siamese_core.network.data import Unavailable

from .patches import in_script_run
from .settings import max_concurrent_trainings, worker_max_jobs, worker_memory_mark_mb

# Full MNIST split is ~55 MB; four (set, seed, held-out, validation) variants at most stay
# in memory, the least recently used goes first.
MAX_DATASETS = 4
_log = logging.getLogger("siamese_ui.resources")


def _spinner(message: str) -> Callable[[Callable], Callable]:
    """A cached function's spinner in the caller's language: ``st.cache_resource`` takes one fixed
    text for every session, so the function caches with ``show_spinner=False`` and each call runs
    under ``st.spinner(_(message))`` (shown only when the call takes over half a second: a cache
    miss). The call keeps the cache's ``clear``."""

    def wrap(cached: Callable) -> Callable:
        @functools.wraps(cached)
        def call(*args, **kwargs):
            if not in_script_run():  # the warm-up's thread: no page to spin on
                return cached(*args, **kwargs)
            with st.spinner(_(message)):
                return cached(*args, **kwargs)

        if hasattr(cached, "clear"):
            call.clear = cached.clear  # type: ignore[attr-defined]
        return call

    return wrap


@_spinner(N_("Loading the data set…"))
@st.cache_resource(show_spinner=False, max_entries=MAX_DATASETS)
def dataset(name: str, seed: int = 0, held_out: tuple[int, ...] = (), val_size: int = 5000):
    """One read-only copy per (set, split) for the whole server."""
    from siamese_core.network.data import load_dataset

    ds = load_dataset(name, seed, held_out, val_size=val_size)
    for split in (ds.train, ds.val, ds.test):
        split.x.flags.writeable = False
        split.y.flags.writeable = False
    return ds


RESOLVE_EVERY_SECONDS = 600  # how often "auto" looks for full MNIST again


FALLBACK_REASONS = {  # why the embedded digits are in use (shown through _())
    Unavailable.OFFLINE: N_(
        "No internet connection, so the app uses the embedded 5,000 MNIST digits. "
        "It looks for full MNIST (70,000 digits) again every {minutes} minutes."
    ),
    Unavailable.NOT_SERVED: N_(
        "Full MNIST could not be downloaded (the download server did not send it), "
        "so the app uses the embedded 5,000 MNIST digits. It tries again every {minutes} minutes."
    ),
    Unavailable.UNREADABLE: N_(
        "The copy of full MNIST on this server cannot be read or written, so the "
        "app uses the embedded 5,000 MNIST digits. The server's log says why."
    ),
}


def fallback_reason(why: Unavailable) -> str:
    """Why the embedded digits are in use, in words a teacher reads on Home and Train."""
    return _(FALLBACK_REASONS[why]).format(minutes=RESOLVE_EVERY_SECONDS // 60)


@st.cache_resource(ttl=RESOLVE_EVERY_SECONDS, show_spinner=False)
def _resolved_dataset() -> tuple[str, Unavailable | None]:
    """What ``auto`` means on this server: (name, why full MNIST is not available, or None).
    Decided once per 10 minutes, not on every rerun: the check reads (or, the first time,
    downloads) full MNIST, and a classroom without internet must not wait for a download timeout
    on every page. The raw error (host names, errno) goes to the log."""
    from siamese_core.network.data import DatasetUnavailable, load_arrays

    try:
        load_arrays("mnist")
        return "mnist", None
    except DatasetUnavailable as exc:
        _log.warning("Full MNIST is not available, using the embedded subset: %s", exc)
        return "mnist-5k", exc.why


@_spinner(N_("Looking for full MNIST…"))
def resolved_dataset_name() -> tuple[str, str]:
    """What ``auto`` means on this server: (name, reason); the reason a sentence for the page,
    in the caller's language (``clear()`` asks again)."""
    name, why = _resolved_dataset()
    return name, _("Full MNIST is available (70,000 digits).") if why is None else fallback_reason(why)


resolved_dataset_name.clear = _resolved_dataset.clear  # type: ignore[attr-defined]


def resolve(name: str) -> str:
    return resolved_dataset_name()[0] if name == "auto" else name


@st.cache_resource(show_spinner=False)
def _device() -> str:
    return worker_pool().device()


@_spinner(N_("Starting TensorFlow…"))
def device() -> str:
    """ "CPU" or the GPU's name the model service computes on, in the caller's language ("(+1 more)")."""
    return job_text(_device())


device.clear = _device.clear  # type: ignore[attr-defined]


def device_now() -> str:
    """:func:`device` when the model service has started, else "" at once: a page's first visit on a
    fresh server never waits for TensorFlow to load in the service (it shows "starting")."""
    name = worker_pool().device_now()
    return job_text(name) if name else ""


@_spinner(N_("Loading the pretrained model…"))
@st.cache_resource(show_spinner=False)
def default_model():
    """The bundled pretrained model, shared read-only by every session: (its handle, its
    metadata, its settings). The metadata is read from the file; the facts (parameters, metric,
    branches) are shipped beside it (siamese_core/network/shipped.py), else asked of the model
    service, which keeps the model."""
    from siamese_core.network import shipped
    from siamese_core.network.persistence import DEFAULT_MODEL, config_from_meta, read_meta
    from siamese_core.serving.protocol import ModelFacts, ModelRef
    from siamese_core.serving.registry import PRETRAINED
    from siamese_core.tasks import ModelCall

    meta = read_meta(DEFAULT_MODEL)
    if (known := shipped.load_facts()) is not None:  # shipped with the model: no wait for the service
        facts = ModelFacts(**known)
    else:
        unknown = ModelRef(PRETRAINED, ModelFacts(0, "", 0))
        facts = worker_pool().call(ModelCall.FACTS.value, {"model": unknown})
    return ModelRef(PRETRAINED, facts), meta, config_from_meta(meta)


@st.cache_resource
def worker_pool():
    """The server's worker processes and their queue: every training runs there, never in the
    web server's own memory (siamese_core/serving/pool.py)."""
    from siamese_core.serving.container import keep_to_core
    from siamese_core.serving.pool import WorkerPool

    pool = WorkerPool(
        max_concurrent_trainings(), max_jobs=worker_max_jobs(), memory_mark_mb=worker_memory_mark_mb()
    )
    if pool.pinned and serving_for_real():
        # The training processes keep to one core each (container.cores_to_pin: a 2-core container):
        # the web server keeps to the last of them, beside one training, instead of moving between
        # the cores. In a class of 30 on two cores its CPU fell from 29.5-31.0 to 26.8-27.5 s (its
        # caches stay warm; BENCHMARKS.md, "The web server on one core, less CPU a training and a
        # page"). Its threads started later inherit the core.
        keep_to_core(pool.pinned[-1])
    return pool


def serving_for_real() -> bool:
    """True in a server started by ``streamlit run``; False under AppTest, whose runtime is a mock
    in the test's own process (a test must never pin pytest to one core)."""
    from streamlit import runtime

    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


@st.cache_resource
def student_registry():
    from .student import StudentRegistry

    return StudentRegistry()
