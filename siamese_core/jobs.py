"""What every long computation of the app shares: its status and the snapshots a page reads.
Knows nothing of any UI.
"""

from __future__ import annotations

import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from siamese_core.i18n import N_, _

if TYPE_CHECKING:
    from siamese_core.config import SiameseConfig
    from siamese_core.results import BatchRow, EpochRow, TrainingResult


# Why a job stopped, in words its owner reads ("Stopped (stopped by the teacher)."). The reason
# travels with the stop to the worker process and comes back with the job's state.
STOPPED_BY_USER = N_("stopped by the user")  # the owner's own Stop (training.py's default reason)
STOPPED_BY_TEACHER = N_("stopped by the teacher")  # the Stop on the teacher's page
ABANDONED = N_("its browser session closed")  # the stop reason when keep_alive says the owner left
LEFT_QUEUE = N_("left the queue before it started")
SHUTTING_DOWN = N_("the server is shutting down")
PAUSED_TOO_LONG = N_("it stayed paused for {seconds} s while other trainings waited for a worker")
BATCH_LIMIT = N_("reached the limit of {batches} batches")
LOSS_NOT_FINITE = N_(
    "the loss became {loss} at step {step}: the learning rate ({learning_rate}) is too large for this model"
)
DATA_NOT_LOADED = N_("its data set could not be loaded ({error})")
MODEL_NOT_LOADED = N_("the trained model did not load: {error}")
RESULT_NOT_LOADED = N_("the result did not load: {error}")
MODEL_DROPPED = N_(
    "the model it needs was let go after a long pause; train it again, or use the pretrained model"
)
WORKER_ENDED = N_(
    "the worker process running this training ended unexpectedly ({why}). Nothing else was "
    "affected: your pages, your model and the other students' trainings go on. Press Start to try again."
)
KILLED = N_("it was killed, usually because the server ran out of memory")
TENSORFLOW_ABORTED = N_("TensorFlow aborted")
CRASHED = N_("it crashed")
GOT_SIGNAL = N_("it received {signal}")
EXITED = N_("it exited with code {code}")
MORE_GPUS = N_("{device} (+{more} more)")  # a device's name: training.describe_device

# Every sentence a job's reason, a task's error or its progress can hold, as its English template.
# They are made where no student's language is known (a worker process, the pool's threads), so
# they travel in English and a page shows them through :func:`job_text`, in its session's language.
# Fields hold plain text (numbers formatted where the sentence is made): no format specs here.
SENTENCES: list[str] = [
    STOPPED_BY_USER, STOPPED_BY_TEACHER, ABANDONED, LEFT_QUEUE, SHUTTING_DOWN, PAUSED_TOO_LONG, BATCH_LIMIT,
    LOSS_NOT_FINITE, DATA_NOT_LOADED, MODEL_NOT_LOADED, RESULT_NOT_LOADED, MODEL_DROPPED, WORKER_ENDED,
    KILLED, TENSORFLOW_ABORTED, CRASHED, GOT_SIGNAL, EXITED, MORE_GPUS,
]  # fmt: skip


def add_sentences(*templates: str) -> None:
    """More templates for :func:`job_text` (a lesson's progress messages, marked with ``N_``),
    registered where the web server imports them: the worker that makes them is another process."""
    SENTENCES.extend(t for t in templates if t not in SENTENCES)


@cache
def _pattern(template: str) -> re.Pattern:
    parts, seen = [], set()
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:  # a field used twice holds the same text twice
            parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>.+?)")
            seen.add(field)
    return re.compile("".join(parts) + r"\Z", re.S)


def job_text(text: str) -> str:
    """A reason, error or progress message made by a job (in English, from a template of
    :data:`SENTENCES`), in the caller's language: the template translated, its fields filled in
    with the same values (each translated in turn when it is such a sentence itself, like the
    cause inside :data:`WORKER_ENDED`). Any other text (an exception's own words) as it is."""
    if not text:
        return text
    for template in SENTENCES:
        if match := _pattern(template).match(text):
            values = {name: job_text(value) for name, value in match.groupdict().items()}
            return _(template).format(**values)
    return text


class Status(StrEnum):
    """A job's state, in the order a job normally goes through them."""

    IDLE = "idle"  # made, not started
    QUEUED = "queued"  # waiting in line for a worker
    STARTING = "starting"  # loading data, building the graph
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"  # by its owner, a limit, or its owner leaving; what it learnt is kept
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in (Status.FINISHED, Status.STOPPED, Status.FAILED)

    @property
    def active(self) -> bool:
        """Holds a worker, or waits in line for one: the student's one training."""
        return self in (Status.QUEUED, Status.STARTING, Status.RUNNING, Status.PAUSED)


@dataclass(frozen=True)
class TaskSnapshot:
    """What a page reads of a task run by a worker (:class:`~siamese_core.serving.mirrors.RemoteTask`)."""

    status: Status
    progress: float  # 0..1
    message: str
    elapsed: float
    result: Any
    error: str
    state: Any = None  # what the task last reported for its page to draw live (a race's curves)


class Stopped(Exception):
    """Raised inside a task's function when its owner asked it to stop."""


class ThreadedJob:
    """What every job run in a daemon thread offers its page: ``join`` and ``alive``."""

    _thread: threading.Thread | None = None

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state, for display."""

    status: Status
    reason: str
    device: str
    epoch: int  # epochs finished
    epochs: int  # epochs asked for
    step: int  # batches done
    total_steps: int  # batches the whole run will do (0 before the pairs are made)
    steps_per_epoch: int
    batches_per_call: int  # steps_per_execution: what one Step runs at least
    progress: float  # 0..1
    elapsed: float  # seconds of training, pauses and validation excluded
    pairs_per_second: float
    eta_seconds: float | None
    batches: tuple[BatchRow, ...]  # every batch
    epoch_history: tuple[EpochRow, ...]  # every finished epoch, with validation figures
    threshold: float | None  # None until the first calibration (or the fixed threshold)
    calibrated: bool  # the threshold is chosen on validation pairs, not fixed
    result: TrainingResult | None  # the test report once the run is over

    @property
    def next_step_batches(self) -> int:
        """The batches the next Step runs: one call of ``batches_per_call``, cut at the epoch's end
        (Keras runs an epoch's last call short: 2 batches, not 8, at batch 104 of 106)."""
        if not self.steps_per_epoch:
            return self.batches_per_call
        left = self.steps_per_epoch - self.step % self.steps_per_epoch
        return min(self.batches_per_call, left)

    @property
    def current_epoch(self) -> int:
        """The epoch the last batch trained belongs to (1-based), read off the batch counter: one
        batch is always shown under one epoch. Counting the epochs recorded said "epoch 3" for
        batch 174 of 94 a epoch once a stop had recorded epoch 2's partial figures, and "epoch 2"
        then "epoch 1" for batch 94 (the class pass). Before the first batch: 1 while it runs."""
        if self.step and self.steps_per_epoch:
            return min(-(-self.step // self.steps_per_epoch), self.epochs)
        return min(self.epoch + (self.status in (Status.RUNNING, Status.PAUSED)), self.epochs)


@dataclass(frozen=True)
class TrainingSync:
    """A training's state since the last sync (a worker sends it, the server's mirror applies
    it): its counters, and the rows added since."""

    status: Status
    reason: str
    device: str
    steps_per_epoch: int
    global_step: int
    threshold: float | None
    elapsed: float  # training seconds so far
    clock_running: bool  # the clock runs (not paused, not building its graph)
    batches: list[BatchRow]  # the batches since the last sync
    epochs: list[EpochRow]  # the epochs since the last sync
    probes: list  # the probe embeddings since the last sync
    probe_index: Any = None  # the probe digits' test indices, sent once


@dataclass
class SyncMark:
    """How much of a training's rows the last sync carried."""

    batches: int = 0
    epochs: int = 0
    probes: int = 0
    probe_index_sent: bool = False


class JobState:
    """The state a training shows, and how it is read: ``snapshot()``. Shared by the job that
    trains (:class:`TrainingJob`) and by its mirror in the web server
    (:class:`siamese_core.serving.mirrors.RemoteTrainingJob`), which is fed from a worker process."""

    config: SiameseConfig
    max_batches: int | None
    probe_snapshots: list  # each epoch's probe embeddings (each kind of job keeps its own)
    _lock: threading.Lock

    def _init_state(self) -> None:
        self.status = Status.IDLE
        self.reason = ""
        self.device = ""
        self.batches: list[BatchRow] = []  # every batch
        self.epochs: list[EpochRow] = []  # every finished epoch, with validation numbers
        self.steps_per_epoch = 0
        self.global_step = 0
        self.train_seconds = 0.0
        self.threshold: float | None = None if self.config.calibrate_threshold else 0.5
        self.result: TrainingResult | None = None
        self._fit_started = 0.0

    def snapshot(self) -> JobSnapshot:
        """A consistent copy of the state for display."""
        with self._lock:
            total = self.steps_per_epoch * self.config.epochs
            if self.max_batches:
                total = min(total, self.max_batches) if total else self.max_batches
            rate = self._recent_rate()
            eta = (total - self.global_step) / rate if rate and total else None
            return JobSnapshot(
                status=self.status,
                reason=self.reason,
                device=self.device,
                epoch=len(self.epochs),
                epochs=self.config.epochs,
                step=self.global_step,
                total_steps=total,
                steps_per_epoch=self.steps_per_epoch,
                batches_per_call=self.config.steps_per_execution,
                progress=min(self.global_step / total, 1.0) if total else 0.0,
                elapsed=self._elapsed(),
                pairs_per_second=rate * self.config.batch_size,
                eta_seconds=eta,
                batches=tuple(self.batches),
                epoch_history=tuple(self.epochs),
                threshold=self.threshold,
                calibrated=self.config.calibrate_threshold,
                result=self.result,
            )

    def sync_since(self, mark: SyncMark) -> TrainingSync:
        """The state now, with the rows added since ``mark`` (which moves on to now)."""
        with self._lock:
            index = getattr(self, "probe_index", None)
            sync = TrainingSync(
                status=self.status,
                reason=self.reason,
                device=self.device,
                steps_per_epoch=self.steps_per_epoch,
                global_step=self.global_step,
                threshold=self.threshold,
                elapsed=self._elapsed(),
                clock_running=bool(self._fit_started),
                batches=self.batches[mark.batches :],
                epochs=self.epochs[mark.epochs :],
                probes=self.probe_snapshots[mark.probes :],
                probe_index=None if mark.probe_index_sent else index,
            )
            mark.batches, mark.epochs, mark.probes = (
                len(self.batches),
                len(self.epochs),
                len(self.probe_snapshots),
            )
            mark.probe_index_sent = index is not None
            return sync

    def _recent_rate(self, window: float = 5.0) -> float:
        """Batches per second over the last few seconds of training (not since Start, which
        would count TensorFlow's graph building as slowness)."""
        recent = self.batches[-400:]
        if len(recent) < 2:
            return 0.0
        t_end = recent[-1].t
        first = next((b for b in recent if b.t >= t_end - window), recent[0])
        if first is recent[-1]:
            first = recent[-2]
        dt = t_end - first.t
        return (recent[-1].step - first.step) / dt if dt > 0 else 0.0

    def _elapsed(self) -> float:
        running = time.perf_counter() - self._fit_started if self._fit_started else 0.0
        return self.train_seconds + running


def with_grace(
    is_alive: Callable[[], bool], grace: float = 15.0, clock: Callable[[], float] = time.monotonic
) -> Callable[[], bool]:
    """Wrap "is the owner still there?" so that it answers False only after ``grace`` seconds
    of continuous absence: a dropped Wi-Fi connection that comes back keeps its training,
    a closed tab loses it."""
    gone_since: list[float | None] = [None]

    def alive() -> bool:
        if is_alive():
            gone_since[0] = None
            return True
        now = clock()
        if gone_since[0] is None:
            gone_since[0] = now
        return now - gone_since[0] < grace

    return alive
