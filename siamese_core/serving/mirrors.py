"""The web server's side of jobs that run in a worker process: :class:`RemoteTrainingJob` and
:class:`RemoteTask` read exactly like the in-process jobs (``snapshot()``, pause, resume, step,
stop); the pool feeds them the worker's syncs and its final payload."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from siamese_core.config import SPLIT_SEED, SiameseConfig
from siamese_core.jobs import (
    MODEL_NOT_LOADED,
    RESULT_NOT_LOADED,
    STOPPED_BY_USER,
    JobState,
    Status,
    TaskSnapshot,
    TrainingSync,
)
from siamese_core.serving.protocol import (
    Action,
    DatasetRef,
    ModelBytes,
    ModelRef,
    RunTask,
    TaskPayload,
    TaskProgress,
    Train,
    TrainingOptions,
    TrainingPayload,
    decode,
    encode,
)

if TYPE_CHECKING:  # the pool imports this module
    from siamese_core.serving.pool import WorkerPool


# ---- the server side: mirrors of jobs running elsewhere ----------------------------------------------------
class RemoteJob:
    """What the pool knows of any job: who it belongs to, where it is, how long it took."""

    kind = "job"
    _ids = itertools.count(1)

    def __init__(self, name: str, keep_alive: Callable[[], bool] | None = None):
        self.id = next(RemoteJob._ids)
        self.name = name
        self.keep_alive = keep_alive
        self.owner = ""  # who asked for it: the student's id (the teacher's page shows their nickname)
        self.description = ""  # what it is, in the owner's words ("the race on the Weight-sharing lab")
        self.run_id = secrets.token_hex(12)  # unique across servers and restarts: a run is posted once
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.pool: WorkerPool | None = None
        self.pending_controls: list[tuple[str, Any]] = []  # asked for while queued, replayed on start
        self.stop_reason = ""  # why a stop was asked while it ran: it holds its worker until it has stopped
        self.queued_at = time.monotonic()
        self.started_at = 0.0  # when a worker took it
        self.ended_at = 0.0

    # what the pool calls
    def start_message(self) -> tuple:
        raise NotImplementedError

    def apply_sync(self, state: dict) -> None:
        raise NotImplementedError

    def apply_payload(self, payload: dict) -> None:
        raise NotImplementedError

    def fail(self, reason: str) -> None:
        raise NotImplementedError

    def dispatched(self) -> None:
        self.started_at = time.monotonic()

    def _register(self, model: ModelBytes | ModelRef) -> ModelRef:
        """A model the worker made becomes a handle the service keeps, owned by this job's owner
        (the web server never loads it)."""
        if isinstance(model, ModelRef):
            return model
        if self.pool is None:
            raise RuntimeError("a job's model arrived outside a pool")
        return self.pool.models.register(model, self.owner or "server")

    def _ended(self) -> None:
        self.ended_at = time.monotonic()
        self._done.set()

    @property
    def ended(self) -> bool:
        return self._done.is_set()

    @property
    def alive(self) -> bool:
        return not self._done.is_set()

    @property
    def stopping(self) -> bool:
        """Asked to stop while running, and not stopped yet: a training finishes its batch and
        its test evaluation first (a few seconds), so the teacher's page shows "stopping"."""
        return bool(self.stop_reason) and not self.ended

    def join(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def control(self, action: Action, argument: Any = None) -> bool:
        """Pass a control on; True when it took the job out of the line."""
        pool = self.pool
        if pool is not None:
            return pool.control(self, action, argument)
        self.pending_controls.append((action, argument))  # not submitted yet: replayed, in order, on start
        return False

    def stop(self, reason: str | None = None) -> None:
        """Stop it: out of the queue if it waits there, after the current batch if it runs.
        ``reason`` is what its owner reads ("stopped by the teacher"); None: the owner's own Stop."""
        self.control(Action.STOP, reason)


class RemoteTrainingJob(JobState, RemoteJob):
    """A :class:`~siamese_core.network.training.TrainingJob` run by a worker, as the pages see it:
    the same ``snapshot()``, controls, model, threshold, probe embeddings and test report.

    ``dataset`` is the server's own copy of the data set (the pages show the model on it);
    the worker loads the same split from ``DatasetRef`` itself.
    """

    kind = "training"

    def __init__(
        self,
        config: SiameseConfig,
        dataset,
        *,
        keep_alive: Callable[[], bool] | None = None,
        max_batches: int | None = None,
        probe_per_class: int = 30,
        test_protocol: str | None = None,
        dataset_name: str | None = None,
    ):
        RemoteJob.__init__(self, "training", keep_alive)
        self.config = config
        self.dataset = dataset
        self.max_batches = max_batches
        self.dataset_ref = DatasetRef(
            dataset_name or (dataset.name if dataset is not None else config.dataset),
            SPLIT_SEED,
            config.held_out_classes,
            config.val_size,
        )
        self._options = TrainingOptions(self.dataset_ref, max_batches, probe_per_class, test_protocol)
        self._init_state()
        self.status = Status.QUEUED
        self.model = None
        self.report = None  # the worker's test report (the Evaluate page's figures)
        self.probe_snapshots: list[np.ndarray] = []
        self.probe_labels: np.ndarray | None = None
        self.probe_images: np.ndarray | None = None
        self.paused_since = 0.0  # when it last paused (time.monotonic()), 0 while it is not paused

    def start_message(self) -> Train:
        return Train(self.id, self.config, self._options)

    def pause(self) -> None:
        self.control(Action.PAUSE)

    def resume(self) -> None:
        self.control(Action.RESUME)

    def step(self, batches: int = 1) -> None:
        self.control(Action.STEP, batches)

    def dispatched(self) -> None:
        super().dispatched()
        with self._lock:
            if self.status == Status.QUEUED:
                self.status = Status.STARTING

    def apply_sync(self, state: TrainingSync) -> None:
        with self._lock:
            if self.status.ended:
                return
            # Ended only with the payload (apply_payload): a page that saw "finished" before the
            # model and the test report arrived stopped polling and never showed them (seen in a
            # browser).
            status = Status.RUNNING if state.status.ended else state.status
            if status == Status.PAUSED and self.status != Status.PAUSED:
                self.paused_since = time.monotonic()
            elif status != Status.PAUSED:
                self.paused_since = 0.0
            self.status = status
            self.reason = state.reason
            self.device = state.device
            self.steps_per_epoch = state.steps_per_epoch
            self.global_step = state.global_step
            self.threshold = state.threshold
            self.train_seconds = state.elapsed
            self._fit_started = time.perf_counter() if state.clock_running else 0.0
            self.batches.extend(state.batches)
            self.epochs.extend(state.epochs)
            self.probe_snapshots.extend(state.probes)
            if state.probe_index is not None and self.dataset is not None:
                index = state.probe_index
                self.probe_labels, self.probe_images = self.dataset.test.y[index], self.dataset.test.x[index]

    def apply_payload(self, payload: TrainingPayload) -> None:
        model = None
        if payload.model is not None:
            try:
                model = self._register(payload.model)
            except Exception as exc:  # should not happen: our own worker saved it
                payload = dataclasses.replace(
                    payload, status=Status.FAILED, reason=MODEL_NOT_LOADED.format(error=exc)
                )
        with self._lock:
            self.model = model
            self.report = payload.report if model is not None else None
            self.result = payload.result
            self.reason = payload.reason or self.reason
            self._fit_started = 0.0
            self.status = payload.status
        self._ended()

    def fail(self, reason: str) -> None:
        with self._lock:
            self.status, self.reason, self._fit_started = Status.FAILED, reason, 0.0
        self._ended()

    def leave_queue(self, reason: str) -> None:
        with self._lock:
            self.status, self.reason = Status.STOPPED, reason
        self._ended()


class RemoteTask(RemoteJob):
    """A lesson's training (``module:function(report, **kwargs)``) run by a worker; reads like
    :class:`~siamese_core.jobs.TaskSnapshot` (what a page reads of any task). Models in ``kwargs``
    are handles (:class:`ModelRef`); a model in the result comes back as a new handle; a
    :class:`DatasetRef` is loaded by the worker."""

    kind = "task"

    def __init__(self, name: str, target: str, kwargs: dict, keep_alive: Callable[[], bool] | None = None):
        super().__init__(name, keep_alive)
        self.target = target
        self._kwargs = encode(kwargs)
        self._status = Status.QUEUED
        self._progress, self._text, self._error = 0.0, "", ""
        self._result: Any = None
        self._state: Any = None  # the latest live state the task reported (a race's curves)
        self.for_owner: str | None = None  # what its page filed it under (the model's handle), if anything

    def start_message(self) -> RunTask:
        kwargs, self._kwargs = self._kwargs, None  # the bytes are the worker's now
        return RunTask(self.id, self.target, kwargs)

    def dispatched(self) -> None:
        super().dispatched()
        with self._lock:
            self._status = Status.RUNNING

    def apply_sync(self, state: TaskProgress) -> None:
        with self._lock:
            if not self._status.ended:
                self._progress, self._text = state.progress, state.message
                if state.state is not None:
                    self._state = state.state

    def apply_payload(self, payload: TaskPayload) -> None:
        try:
            result = decode(payload.result, models=self._register)
        except Exception as exc:
            payload, result = TaskPayload(Status.FAILED, error=RESULT_NOT_LOADED.format(error=exc)), None
        with self._lock:
            self._status = payload.status
            self._result, self._error = result, payload.error
            if self._status == Status.FINISHED:
                self._progress = 1.0
            elif self._status == Status.STOPPED:  # who stopped it, as after leaving the line
                self._text = payload.reason or STOPPED_BY_USER
        self._ended()

    def fail(self, reason: str) -> None:
        with self._lock:
            self._status, self._error = Status.FAILED, reason
        self._ended()

    def leave_queue(self, reason: str) -> None:
        with self._lock:
            self._status, self._text = Status.STOPPED, reason
        self._ended()

    def snapshot(self) -> TaskSnapshot:
        with self._lock:
            end = self.ended_at or time.monotonic()
            elapsed = end - self.started_at if self.started_at else 0.0
            return TaskSnapshot(
                self._status, self._progress, self._text, elapsed, self._result, self._error, self._state
            )
