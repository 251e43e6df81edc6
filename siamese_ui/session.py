"""What one student's session holds: the active model (trained, uploaded or the pretrained
default), per-model results, and the one place a finished training becomes the active model.

Session keys are constants here, prefixed by the page that owns them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import streamlit as st

from siamese_core.config import SiameseConfig
from siamese_core.i18n import N_, _
from siamese_core.results import learned_nothing

from .formatting import sentences
from .resources import dataset, default_model, resolved_dataset_name
from .shared import PRETRAINED_HANDLE
from .training_view import learned_nothing_note

MODEL = "model.active"  # ActiveModel used by Embeddings / Compare / Evaluate / More lessons
MODEL_CACHE = "model.cache"  # per-model results, dropped with the model
TRAIN_JOB = "train.job"
TRAIN_ADOPTED = "train.adopted"  # the job whose model became the active one
TRAIN_RUNS = "train.runs"  # how many trainings became the active model in this session


class Source(StrEnum):
    """Where the model a page uses comes from (the value in English, as the board records it; shown
    through ``ActiveModel.label``)."""

    PRETRAINED = N_("pretrained default")  # the bundled model, shared by every session
    TRAINED_HERE = N_("trained in this session")
    UPLOADED = N_("uploaded")  # a .keras file the student gave (its name: ActiveModel.name)


PRETRAINED, TRAINED_HERE, UPLOADED = Source.PRETRAINED, Source.TRAINED_HERE, Source.UPLOADED


def new_handle() -> str:
    """A handle no other model gets: unlike ``id(model)``, never reused after a model is freed."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ActiveModel:
    """A model a page can use, and what to call it. ``model`` is a handle to the model the model
    service keeps (``ModelRef``; siamese_ui/service.py asks the service to use it). Results about
    a model (scores, caches) are keyed by its ``handle``, which a retrained or freed model never
    shares."""

    model: Any  # siamese_core.serving.protocol.ModelRef
    threshold: float
    source: Source
    config: SiameseConfig | None
    dataset: str | None = None
    job: Any = None  # the TrainingJob, when trained here (probe snapshots for Embeddings)
    run: int | None = None  # which training of this session, when trained here (1, 2, ...)
    handle: str = field(default_factory=new_handle)
    name: str = ""  # an uploaded model's file name

    @property
    def label(self) -> str:
        """What a table or heading calls the model: "trained in this session, run 2" (in the
        caller's language)."""
        if self.source == TRAINED_HERE and self.run is not None:
            return _("trained in this session, run {run}").format(run=self.run)
        if self.source == UPLOADED:
            return _("uploaded: {name}").format(name=self.name)
        return _(str(self.source))


def pretrained_model() -> ActiveModel:
    """The bundled pretrained model, shared read-only by every session."""
    model, meta, config = default_model()
    return ActiveModel(
        model,
        float(meta.get("threshold", 0.5)),
        PRETRAINED,
        config,
        meta.get("dataset"),
        handle=PRETRAINED_HANDLE,
    )


def active_model() -> ActiveModel:
    """The session's model: trained or uploaded here, else the pretrained default. A training
    that ended while the student was elsewhere (or whose last redraw was cut short by a click)
    becomes the model here, not only when the Train page redraws. A reload or a new tab finds
    the student's training on whichever page it opens (a model uploaded here stays)."""
    from .student import known_student

    if TRAIN_JOB not in st.session_state and MODEL not in st.session_state and known_student():
        find_my_training()  # (a browser never seen before has no training to find)
    job = st.session_state.get(TRAIN_JOB)
    if job is not None:
        adopt_finished_training(job)
    return st.session_state[MODEL] if MODEL in st.session_state else pretrained_model()


def adopt_finished_training(job) -> bool:
    """Make a finished (or stopped) training's model the session's active model, once per job.
    Returns True the first time, when the pages that show a model must redraw."""
    snapshot = job.snapshot()
    if st.session_state.get(TRAIN_ADOPTED) is job or not snapshot.status.ended:
        return False
    st.session_state[TRAIN_ADOPTED] = job
    if job.model is not None and snapshot.result is not None:
        from .resources import student_registry

        # the student's own count (a reload is a new session of the same student); a session's
        # count where the job was never registered
        counted = st.session_state[TRAIN_RUNS] = st.session_state.get(TRAIN_RUNS, 0) + 1
        run = student_registry().number(job) or counted
        st.session_state[MODEL] = ActiveModel(
            job.model, job.threshold, TRAINED_HERE, job.config, job.dataset.name, job, run, job.model.handle
        )
    return True


def find_my_training() -> bool:
    """A reload, a second tab or a link opened in the same browser (a new session, the same
    student cookie) finds this student's training again: the server's registry keeps each
    student's latest one. True when this session just found it."""
    from .patches import current_session_id
    from .resources import student_registry
    from .student import student_id

    student, registry = student_id(), student_registry()
    registry.watch(student, current_session_id())
    mine = registry.job(student)
    if mine is not None and st.session_state.get(TRAIN_JOB) is not mine:
        st.session_state[TRAIN_JOB] = mine
        return True
    return False


def forget_training() -> None:
    """Reset: the training and its model go; the pages fall back to the pretrained model."""
    for key in (TRAIN_JOB, TRAIN_ADOPTED, MODEL):
        st.session_state.pop(key, None)


def model_banner(active: ActiveModel) -> None:
    if active.source == PRETRAINED:
        st.info(
            _(
                "Using the **pretrained default model** (a small CNN trained on full MNIST without the "
                "embedded digits). Train your own on the Train page and it replaces this one."
            ),
            icon=":material/inventory_2:",
        )
    else:
        config = active.config
        if config is None:
            what = _("custom")
        elif config.shared:
            what = _("{branch} branch, {head} head, shared").format(branch=config.branch, head=_(config.head))
        else:
            what = _("{branch} branch, {head} head, unshared").format(
                branch=config.branch, head=_(config.head)
            )
        st.success(
            _("Using the model **{model}** ({what}).").format(model=active.label, what=what),
            icon=":material/psychology:",
        )
        if (failure := model_failure(active)) is not None:
            st.warning(
                sentences(
                    _("What this page shows of it means little."),
                    learned_nothing_note(failure, config is None or config.shared),
                ),
                icon=":material/trending_flat:",
            )


def model_failure(active: ActiveModel):
    """A model trained here that ended at chance level (results.learned_nothing), or None: the
    pages that use it say so next to its name, as the Train page does under its result (an
    exploratory session found Embeddings naming "10 digit clusters" of a collapsed model)."""
    if active.source != TRAINED_HERE or active.job is None:
        return None
    return learned_nothing(active.job.snapshot().result, active.job.probe_snapshots)


def model_dataset(active: ActiveModel):
    """The data set to show a model on: its own (held-out digits included) when trained
    here, else the server's (full MNIST or the embedded subset)."""
    if active.job is not None and active.job.dataset is not None:
        return active.job.dataset
    held_out = active.config.held_out_classes if active.config else ()
    return dataset(resolved_dataset_name()[0], 0, held_out)


def model_dataset_ref(active: ActiveModel):
    """How a worker process loads the same data set as :func:`model_dataset`."""
    from siamese_core.serving.protocol import DatasetRef

    if active.job is not None and getattr(active.job, "dataset_ref", None) is not None:
        return active.job.dataset_ref
    held_out = active.config.held_out_classes if active.config else ()
    return DatasetRef(resolved_dataset_name()[0], 0, tuple(held_out))


class SessionResults(dict):
    """One session's per-model results; the same ``get_or_compute`` as the shared ones."""

    def get_or_compute(self, key, compute):
        if key not in self:
            self[key] = compute()
        return self[key]


def model_cache(active: ActiveModel):
    """Per-model results (embeddings, reports): the pretrained model's are shared by the whole
    server (siamese_ui/shared.py); any other model's are kept in this session, dropped with it.
    A model trained here starts with its test report, computed by the worker that trained it."""
    if active.source == PRETRAINED:
        from .shared import ModelResults, shared_results

        return ModelResults(shared_results(), PRETRAINED_HANDLE)
    store = st.session_state.get(MODEL_CACHE)
    if not isinstance(store, SessionResults):
        store = st.session_state[MODEL_CACHE] = SessionResults()
    key = active.handle
    if store.get("key") != key:
        store.clear()
        store["key"] = key
        report = getattr(active.job, "report", None)
        if report is not None:
            store["report"] = report
    return store
