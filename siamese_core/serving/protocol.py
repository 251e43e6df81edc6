"""What travels between the web server and a worker process, over a private socket pair
(pickled; nothing else can reach it).

server -> worker: :class:`Train`, :class:`RunTask`, :class:`Call`, :class:`Control`, :class:`Exit`;
worker -> server: :class:`Ready`, :class:`Synced` (a :class:`TrainingSync` or a
:class:`TaskProgress`), :class:`Done` (a :class:`TrainingPayload` or a :class:`TaskPayload`),
:class:`Answer` (to a :class:`Call`). Each is a frozen dataclass: a field read by name, never a
tuple read by position.

The web server never holds a Keras model (it never imports TensorFlow): a model is a
:class:`ModelRef`, a handle to a model the model service keeps. A model made in a worker comes
back as ``.keras`` bytes (:class:`ModelBytes`, with the few :class:`ModelFacts` the pages show),
which the server files in its :class:`~siamese_core.serving.registry.ModelRegistry` and replaces
by a handle; a handle sent to a worker travels with the model's bytes the first time that worker
sees it (loaded with safe mode on). Data sets travel by name (:class:`DatasetRef`: the worker
loads its own copy).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The stop reasons the pool and the worker use, defined with every job's sentence in siamese_core.jobs
from siamese_core.jobs import ABANDONED as ABANDONED
from siamese_core.jobs import LEFT_QUEUE as LEFT_QUEUE
from siamese_core.jobs import Status, TrainingSync

if TYPE_CHECKING:
    from siamese_core.config import SiameseConfig
    from siamese_core.results import TrainingResult


# ---- values that travel between the server and a worker ---------------------------------------------
@dataclass(frozen=True)
class DatasetRef:
    """A data set named by how to load it: the worker loads (and keeps) its own copy, so no
    55 MB of images cross the pipe."""

    name: str
    seed: int = 0
    held_out: tuple[int, ...] = ()
    val_size: int = 5000


@dataclass(frozen=True)
class ModelFacts:
    """What the pages show about a model without running it, read off it where it was made."""

    parameters: int  # model.count_params()
    metric: str  # how its embeddings are compared: "euclidean" or "cosine" (models.embedding_metric)
    branches: int  # 1 when the two inputs share one branch (weight sharing), else 2


@dataclass(frozen=True)
class ModelRef:
    """A handle to a model the model service keeps: what a session holds instead of a Keras model."""

    handle: str
    facts: ModelFacts


@dataclass(frozen=True)
class ModelBytes:
    """A Keras model as ``.keras`` bytes (loaded with safe_mode on at the other end), with its facts
    when a worker sends it."""

    data: bytes
    facts: ModelFacts | None = None


def _fields(value: Any) -> dict[str, Any] | None:
    """A dataclass instance's fields (a typed result that carries a model), else None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
    return None


_LEAVES = (DatasetRef, ModelBytes, ModelRef, ModelFacts)


def walk(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with ``leaf`` applied to everything that is not a container, inside dicts, lists,
    tuples and dataclasses (a dataclass is rebuilt only when one of its fields changed)."""
    if (fields := _fields(value)) is not None and not isinstance(value, _LEAVES):
        changed = {name: walk(v, leaf) for name, v in fields.items()}
        if all(changed[name] is v for name, v in fields.items()):
            return value
        return dataclasses.replace(value, **changed)
    if isinstance(value, dict):
        return {k: walk(v, leaf) for k, v in value.items()}
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return type(value)(walk(v, leaf) for v in value)
    return leaf(value)


def model_refs(value: Any) -> set[str]:
    """The handles of every :class:`ModelRef` inside ``value``."""
    found: set[str] = set()

    def leaf(v):
        if isinstance(v, ModelRef):
            found.add(v.handle)
        return v

    walk(value, leaf)
    return found


def model_facts(model) -> ModelFacts:
    """A Keras model's facts (in a worker: needs TensorFlow)."""
    from siamese_core.network.models import branches_of, embedding_metric

    try:
        branches = len(branches_of(model))
        metric = embedding_metric(model)
    except Exception:  # a lesson's model that is not a Siamese network (a decoder, a classifier)
        branches, metric = 0, ""
    return ModelFacts(int(model.count_params()), metric, branches)


def encode(value: Any) -> Any:
    """Keras models become :class:`ModelBytes` (with their facts), inside dicts, lists, tuples and
    dataclasses too."""

    def leaf(v):
        if _is_keras_model(v):
            with tempfile.TemporaryDirectory() as d:
                path = Path(d) / "model.keras"
                v.save(path)
                return ModelBytes(path.read_bytes(), model_facts(v))
        return v

    return walk(value, leaf)


def decode(
    value: Any,
    datasets: Callable[[DatasetRef], Any] | None = None,
    models: Callable[[ModelRef | ModelBytes], Any] | None = None,
) -> Any:
    """The inverse of :func:`encode`: with ``models`` (the server's registry, a worker's store),
    each :class:`ModelBytes` and :class:`ModelRef` becomes what it returns; without it, a
    :class:`ModelBytes` is loaded as a Keras model (in a worker only). A :class:`DatasetRef`
    becomes the data set when ``datasets`` is given (in a worker)."""

    def leaf(v):
        if models is not None and isinstance(v, ModelBytes | ModelRef):
            return models(v)
        if isinstance(v, ModelBytes):
            return load_keras(v.data)
        if isinstance(v, DatasetRef) and datasets is not None:
            return datasets(v)
        return v

    return walk(value, leaf)


def load_keras(data: bytes):
    """A model from ``.keras`` bytes, safe mode on (in a worker: needs TensorFlow)."""
    from siamese_core.network import (
        losses,  # noqa: F401  (registers the custom classes)
        models,  # noqa: F401  (registers the custom classes)
    )
    from siamese_core.network._keras import keras
    from siamese_core.network.models import BUILD_LOCK

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.keras"
        path.write_bytes(data)
        with BUILD_LOCK:  # its layers draw seeds from Python's random: see models.BUILD_LOCK
            return keras.saving.load_model(path, compile=False, safe_mode=True)


def _is_keras_model(value: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


# ---- the messages -------------------------------------------------------------------------------------
class Action(StrEnum):
    """What a job's owner (or the pool) asks of it while it waits or runs."""

    PAUSE = "pause"
    RESUME = "resume"
    STEP = "step"  # argument: how many batches
    STOP = "stop"  # argument: the reason its owner reads, None for the owner's own Stop
    ABANDON = "abandon"  # its owner's tabs are all closed


@dataclass(frozen=True)
class TrainingOptions:
    dataset: DatasetRef
    max_batches: int | None
    probe_per_class: int
    test_protocol: str | None


@dataclass(frozen=True)
class Train:
    job_id: int
    config: SiameseConfig
    options: TrainingOptions


@dataclass(frozen=True)
class RunTask:
    job_id: int
    target: str  # "module:function", called as function(report, **kwargs) (siamese_core.tasks)
    kwargs: dict[str, Any]  # encoded: models as ModelRef, data sets as DatasetRef
    models: dict[str, bytes] = dataclasses.field(default_factory=dict)  # handles this worker lacks


@dataclass(frozen=True)
class Call:
    """A question for the model service, answered next to whatever training the worker runs:
    ``target(**kwargs)`` (siamese_core.tasks.Call), models as :class:`ModelRef`."""

    call_id: int
    target: str
    kwargs: dict[str, Any]
    models: dict[str, bytes] = dataclasses.field(default_factory=dict)  # handles this worker lacks


@dataclass(frozen=True)
class Answer:
    call_id: int
    result: Any = None  # encoded: new models as ModelBytes
    error: str = ""  # English: why it failed ("" when it did not)
    problem: Any = None  # a ModelProblem / ImageProblem to show in the student's language
    missing: tuple[str, ...] = ()  # handles the worker no longer has: send them again


@dataclass(frozen=True)
class Control:
    job_id: int
    action: Action
    argument: Any = None


@dataclass(frozen=True)
class Exit:
    pass


@dataclass(frozen=True)
class Ready:
    pid: int
    device: str = "CPU"  # what it computes on (training.describe_device), for the pages


@dataclass(frozen=True)
class TaskProgress:
    progress: float  # 0..1
    message: str
    state: Any = None  # what the task's page draws live (a race's curves), when it sends one


@dataclass(frozen=True)
class Synced:
    job_id: int
    state: TrainingSync | TaskProgress


@dataclass(frozen=True)
class TrainingPayload:
    status: Status
    reason: str
    result: TrainingResult | None
    report: Any  # the evaluation's Report, for the Evaluate page
    model: ModelBytes | None


@dataclass(frozen=True)
class TaskPayload:
    status: Status
    result: Any = None  # encoded
    error: str = ""  # why it failed
    reason: str = ""  # who stopped it


@dataclass(frozen=True)
class Done:
    job_id: int
    payload: TrainingPayload | TaskPayload
    pss_mb: float  # the worker's memory after the job: the pool retires it above its mark
