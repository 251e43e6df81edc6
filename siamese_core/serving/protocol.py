"""What travels between the web server and a worker process, over a private socket pair
(pickled; nothing else can reach it).

server -> worker: :class:`Train`, :class:`RunTask`, :class:`Control`, :class:`Exit`;
worker -> server: :class:`Ready`, :class:`Synced` (a :class:`TrainingSync` or a
:class:`TaskProgress`), :class:`Done` (a :class:`TrainingPayload` or a :class:`TaskPayload`).
Each is a frozen dataclass: a field read by name, never a tuple read by position.

Keras models travel as ``.keras`` bytes (:class:`ModelBytes`, loaded with safe mode on), data
sets by name (:class:`DatasetRef`: the worker loads its own copy).
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
class ModelBytes:
    """A Keras model as ``.keras`` bytes (loaded with safe_mode on at the other end)."""

    data: bytes


def _fields(value: Any) -> dict[str, Any] | None:
    """A dataclass instance's fields (a typed result that carries a model), else None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
    return None


def encode(value: Any) -> Any:
    """Keras models become :class:`ModelBytes`, inside dicts, lists, tuples and dataclasses too."""
    if (fields := _fields(value)) is not None and not isinstance(value, DatasetRef | ModelBytes):
        return dataclasses.replace(value, **{name: encode(v) for name, v in fields.items()})
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(encode(v) for v in value)
    if _is_keras_model(value):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "model.keras"
            value.save(path)
            return ModelBytes(path.read_bytes())
    return value


def decode(value: Any, datasets: Callable[[DatasetRef], Any] | None = None) -> Any:
    """The inverse of :func:`encode`; a :class:`DatasetRef` becomes the data set when
    ``datasets`` is given (in a worker)."""
    if (fields := _fields(value)) is not None and not isinstance(value, DatasetRef | ModelBytes):
        return dataclasses.replace(value, **{name: decode(v, datasets) for name, v in fields.items()})
    if isinstance(value, dict):
        return {k: decode(v, datasets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(decode(v, datasets) for v in value)
    if isinstance(value, ModelBytes):
        from siamese_core.network import (
            losses,  # noqa: F401  (registers the custom classes)
            models,  # noqa: F401  (registers the custom classes)
        )
        from siamese_core.network._keras import keras

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "model.keras"
            path.write_bytes(value.data)
            return keras.saving.load_model(path, compile=False, safe_mode=True)
    if isinstance(value, DatasetRef) and datasets is not None:
        return datasets(value)
    return value


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
    kwargs: dict[str, Any]  # encoded: models as ModelBytes, data sets as DatasetRef


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
