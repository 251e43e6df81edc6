"""What several pages share: cached data and models, the session's model, small UI helpers.

Caching by ownership: data sets and the pretrained default model are read-only and shared
by every user (``st.cache_resource``, arrays flagged read-only); a model a student trains
lives only in that student's ``st.session_state``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from siamese_core.config import PRESETS, SiameseConfig


def _leave_pages_directory_mode() -> None:
    """Run every page through app.py's st.navigation, even on a fresh server.

    Streamlit decides once per server whether the app "uses the pages directory" (a
    ``pages/`` folder beside app.py) and, until some script calls ``st.navigation``, runs
    a directly requested page file on its own: the first student to open a deep link got
    the raw file with Streamlit's old file-name menu. Clearing the flag and rerunning sends
    that request through app.py like every later one.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the flag: nothing to undo
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit 1.67 "cleans problem modules" at the end of each run: with Keras imported it
    resets Keras's global state and runs a full ``gc.collect()``. Our Train page reruns a
    fragment every second per student, so this took 45% of the server's time (profiled with
    py-spy), cut a training's speed tenfold and reset Keras's state under trainings running
    in other sessions. Models here live in session state and never rely on that clean-up.
    Matplotlib's ``close("all")``, the other half of the hook, is kept.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return
    if getattr(script_runner._clean_problem_modules, "siamese_lab", False):
        return

    def _clean_problem_modules() -> None:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")

    _clean_problem_modules.siamese_lab = True
    script_runner._clean_problem_modules = _clean_problem_modules


_leave_pages_directory_mode()
_keep_keras_state_between_reruns()

# ---- session keys (one constant per key, prefixed by the page that owns it) -----------------
MODEL = "model.active"  # ActiveModel used by Embeddings / Compare / Evaluate
TRAIN_JOB = "train.job"
TRAIN_CONFIG = "train.config"
TRAIN_NOTES = "train.query_notes"

DEFAULT_MAX_TRAININGS = 2  # two full-MNIST trainings fit Community Cloud's memory (BENCHMARKS.md)
DEFAULT_DISCONNECT_GRACE = 15.0


def _setting(name: str, default: float, minimum: float) -> float:
    """From the environment, else a root-level Streamlit secret, else ``default``."""
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
    return int(_setting("SIAMESE_LAB_MAX_TRAININGS", DEFAULT_MAX_TRAININGS, 1))


def disconnect_grace() -> float:
    """``SIAMESE_LAB_DISCONNECT_GRACE``: seconds a training outlives its closed tab (default 15),
    so that a dropped connection that comes back keeps its run."""
    return _setting("SIAMESE_LAB_DISCONNECT_GRACE", DEFAULT_DISCONNECT_GRACE, 0.0)


@dataclass
class ActiveModel:
    model: Any
    threshold: float
    source: str  # "trained in this session", "pretrained default", "uploaded: name"
    config: SiameseConfig | None
    dataset: str | None = None
    job: Any = None  # the TrainingJob, when trained here (probe snapshots for Embeddings)


@st.cache_resource(show_spinner="Loading the data set…")
def dataset(name: str, seed: int = 0, held_out: tuple[int, ...] = ()):
    """One read-only copy per (set, split) for the whole server."""
    from siamese_core.data import load_dataset

    ds = load_dataset(name, seed, held_out)
    for split in (ds.train, ds.val, ds.test):
        split.x.flags.writeable = False
        split.y.flags.writeable = False
    return ds


@st.cache_resource(show_spinner="Checking which data set can be had…")
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
def training_slots():
    from siamese_core.training import TrainingSlots

    return TrainingSlots(max_concurrent_trainings())


def active_model() -> ActiveModel:
    """The session's model: trained or uploaded here, else the pretrained default."""
    if MODEL in st.session_state:
        return st.session_state[MODEL]
    model, meta, config = default_model()
    return ActiveModel(model, float(meta.get("threshold", 0.5)), "pretrained default", config,
                       meta.get("dataset"))


def model_banner(m: ActiveModel) -> None:
    if m.source == "pretrained default":
        st.info(
            "Using the **pretrained default model** (a small CNN trained on full MNIST without the "
            "embedded digits). Train your own on the Train page and it replaces this one.",
            icon=":material/inventory_2:",
        )
    else:
        c = m.config
        what = f"{c.branch} branch, {c.head} head, {'shared' if c.shared else 'unshared'}" if c else "custom"
        st.success(f"Using the model **{m.source}** ({what}).", icon=":material/psychology:")


def preset_label(name: str) -> str:
    c = PRESETS[name]
    return f"{name} ({c.branch}, {c.epochs} epochs)"


def digit_image(x: np.ndarray, scale: int = 4) -> np.ndarray:
    """A 28x28 uint8 digit enlarged without smoothing, for st.image."""
    return np.kron(x, np.ones((scale, scale), np.uint8))


def model_dataset(m: ActiveModel):
    """The data set to show a model on: its own (held-out digits included) when trained
    here, else the server's (full MNIST or the embedded subset)."""
    if m.job is not None and m.job.dataset is not None:
        return m.job.dataset
    held = m.config.held_out_classes if m.config else ()
    return dataset(resolved_dataset_name()[0], 0, held)


def model_cache(m: ActiveModel) -> dict:
    """Per-model results (embeddings, reports) kept in this session, dropped with the model."""
    store = st.session_state.setdefault("model.cache", {})
    key = id(m.model)
    if store.get("key") != key:
        store.clear()
        store["key"] = key
    return store


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
