"""Trainings in worker processes, behind one first-in-first-out queue.

Why processes: Keras/TensorFlow's training path keeps a few MB of every ``fit`` in the process
that ran it, for good (NOTES.md: ~13 MB per small training, even after ``clear_session``); a
process that exits returns all of it. So the web server never trains: it keeps a
:class:`WorkerPool` of ``size`` long-lived worker processes (TensorFlow imported once, so a
training starts in about a second), sends each job to an idle worker, mirrors the job's
progress in a :class:`RemoteTrainingJob` or :class:`RemoteTask` that the pages read exactly like
the in-process jobs, and recycles a worker after ``max_jobs`` jobs or above ``memory_mark_mb``.
A worker that dies (out of memory, a TensorFlow abort) fails its one job with a sentence; the
pool starts a new worker and the queue goes on.

The pool's interface is small on purpose: ``submit``, ``cancel``, ``place``, ``stats`` and the
jobs' own ``snapshot / pause / resume / step / stop``. A school that outgrows one server replaces
it with an existing job queue (README, "Past one server").

Messages (pickled over a private socket pair; nothing else can reach it):
server -> worker: ``("train", id, config, options)``, ``("task", id, "module:function", kwargs)``,
``("control", id, action, argument)`` (a stop's argument is its reason, None for the owner's own),
``("exit",)``;
worker -> server: ``("ready", pid)``, ``("sync", id, state)``, ``("done", id, payload)``.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib
import itertools
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from .config import SPLIT_SEED, SiameseConfig
from .jobs import STOPPED_BY_USER, JobState, Status, Stopped, TaskSnapshot
from .memory import pss_mb

ABANDONED = "its browser session closed"  # same words as training.ABANDONED (no TF import here)
LEFT_QUEUE = "left the queue before it started"
DEFAULT_MAX_JOBS = 10  # a worker is replaced after this many jobs (it keeps ~10-30 MB of each)
DEFAULT_MEMORY_MARK_MB = 1000.0  # ... or once its memory (PSS) passes this
DEFAULT_SECONDS_PER_JOB = 15.0  # the wait estimate's guess before any job has finished
ALIVE_CHECK_SECONDS = 2.0  # how often the pool asks whether queued and running jobs' owners are there


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


def encode(value: Any) -> Any:
    """Keras models become :class:`ModelBytes`, inside dicts, lists and tuples too."""
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
    if isinstance(value, dict):
        return {k: decode(v, datasets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(decode(v, datasets) for v in value)
    if isinstance(value, ModelBytes):
        from . import losses, models  # noqa: F401  (registers the custom classes)
        from ._keras import keras

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
        self._pool: WorkerPool | None = None
        self._controls: list[tuple[str, Any]] = []  # asked for while queued, replayed on start
        self.stop_reason = ""  # why a stop was asked while it ran: it holds its worker until it has stopped
        self.queued_at = time.monotonic()
        self.started_at = 0.0  # when a worker took it
        self.ended_at = 0.0

    # what the pool calls
    def _message(self) -> tuple:
        raise NotImplementedError

    def _sync(self, state: dict) -> None:
        raise NotImplementedError

    def _finish(self, payload: dict) -> None:
        raise NotImplementedError

    def _fail(self, reason: str) -> None:
        raise NotImplementedError

    def _dispatched(self) -> None:
        self.started_at = time.monotonic()

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

    def _control(self, action: str, argument: Any = None) -> bool:
        """Pass a control on; True when it took the job out of the line."""
        pool = self._pool
        if pool is not None:
            return pool._control(self, action, argument)
        self._controls.append((action, argument))  # not submitted yet: replayed, in order, on start
        return False

    def stop(self, reason: str | None = None) -> None:
        """Stop it: out of the queue if it waits there, after the current batch if it runs.
        ``reason`` is what its owner reads ("stopped by the teacher"); None: the owner's own Stop."""
        self._control("stop", reason)


class RemoteTrainingJob(JobState, RemoteJob):
    """A :class:`~siamese_core.training.TrainingJob` run by a worker, as the pages see it:
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
        self._options = {
            "dataset": self.dataset_ref,
            "max_batches": max_batches,
            "probe_per_class": probe_per_class,
            "test_protocol": test_protocol,
        }
        self._init_state()
        self.status = Status.QUEUED
        self.model = None
        self.report = None  # the worker's test report (the Evaluate page's figures)
        self.probe_snapshots: list[np.ndarray] = []
        self.probe_labels: np.ndarray | None = None
        self.probe_images: np.ndarray | None = None

    def _message(self) -> tuple:
        return ("train", self.id, self.config, self._options)

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control("resume")

    def step(self, batches: int = 1) -> None:
        self._control("step", batches)

    def _dispatched(self) -> None:
        super()._dispatched()
        with self._lock:
            if self.status == Status.QUEUED:
                self.status = Status.STARTING

    def _sync(self, state: dict) -> None:
        with self._lock:
            if self.status.ended:
                return
            status = Status(state["status"])
            # Ended only with the payload (_finish): a page that saw "finished" before the model
            # and the test report arrived stopped polling and never showed them (seen in a browser).
            self.status = Status.RUNNING if status.ended else status
            self.reason = state["reason"]
            self.device = state["device"]
            self.steps_per_epoch = state["steps_per_epoch"]
            self.global_step = state["global_step"]
            self.threshold = state["threshold"]
            self.train_seconds = state["elapsed"]
            self._fit_started = time.perf_counter() if state["clock_running"] else 0.0
            self.batches.extend(state["batches"])
            self.epochs.extend(state["epochs"])
            self.probe_snapshots.extend(state["probes"])
            if state.get("probe_index") is not None and self.dataset is not None:
                index = state["probe_index"]
                self.probe_labels, self.probe_images = self.dataset.test.y[index], self.dataset.test.x[index]

    def _finish(self, payload: dict) -> None:
        model = None
        if payload.get("model") is not None:
            try:
                model = decode(payload["model"])
            except Exception as exc:  # should not happen: our own worker saved it
                payload = {
                    **payload,
                    "status": Status.FAILED,
                    "reason": f"the trained model did not load: {exc}",
                }
        with self._lock:
            self.model = model
            self.report = payload.get("report") if model is not None else None
            self.result = payload.get("result")
            self.reason = payload.get("reason", self.reason)
            self._fit_started = 0.0
            self.status = Status(payload["status"])
        self._ended()

    def _fail(self, reason: str) -> None:
        with self._lock:
            self.status, self.reason, self._fit_started = Status.FAILED, reason, 0.0
        self._ended()

    def _leave_queue(self, reason: str) -> None:
        with self._lock:
            self.status, self.reason = Status.STOPPED, reason
        self._ended()


class RemoteTask(RemoteJob):
    """A lesson's training (``module:function(report, **kwargs)``) run by a worker; reads like
    :class:`~siamese_core.jobs.BackgroundTask`. Keras models in ``kwargs`` and in the result
    travel as ``.keras`` bytes; a :class:`DatasetRef` is loaded by the worker."""

    kind = "task"

    def __init__(self, name: str, target: str, kwargs: dict, keep_alive: Callable[[], bool] | None = None):
        super().__init__(name, keep_alive)
        self.target = target
        self._kwargs = encode(kwargs)
        self._status = Status.QUEUED
        self._progress, self._text, self._error = 0.0, "", ""
        self._result: Any = None
        self._state: Any = None  # the latest live state the task reported (a race's curves)

    def _message(self) -> tuple:
        kwargs, self._kwargs = self._kwargs, None  # the bytes are the worker's now
        return ("task", self.id, self.target, kwargs)

    def _dispatched(self) -> None:
        super()._dispatched()
        with self._lock:
            self._status = Status.RUNNING

    def _sync(self, state: dict) -> None:
        with self._lock:
            if not self._status.ended:
                self._progress, self._text = state["progress"], state["message"]
                self._state = state.get("state", self._state)

    def _finish(self, payload: dict) -> None:
        try:
            result = decode(payload.get("result"))
        except Exception as exc:
            payload, result = {"status": Status.FAILED, "error": f"the result did not load: {exc}"}, None
        with self._lock:
            self._status = Status(payload["status"])
            self._result, self._error = result, payload.get("error", "")
            if self._status == Status.FINISHED:
                self._progress = 1.0
            elif self._status == Status.STOPPED:  # who stopped it, as after leaving the line
                self._text = payload.get("reason") or STOPPED_BY_USER
        self._ended()

    def _fail(self, reason: str) -> None:
        with self._lock:
            self._status, self._error = Status.FAILED, reason
        self._ended()

    def _leave_queue(self, reason: str) -> None:
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


# ---- the pool ----------------------------------------------------------------------------------------------
@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Event = field(default_factory=threading.Event)
    job: RemoteJob | None = None
    jobs_done: int = 0
    retiring: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, message: tuple) -> bool:
        try:
            with self.send_lock:
                self.conn.send(message)
            return True
        except (OSError, EOFError, ValueError):
            return False


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    pss_mb: float  # its share of memory (libraries shared with the server counted once)
    jobs_done: int
    job: str  # "" when idle; else "training (owner)"


@dataclass(frozen=True)
class PoolStats:
    size: int
    running: int
    queued: int
    workers: tuple[WorkerInfo, ...]
    finished: int
    recycled: int
    crashed: int
    queue: tuple[tuple[str, str], ...]  # (kind or name, owner) in order
    running_jobs: tuple[tuple[str, str, float], ...]  # (name, owner, seconds since it started)


class WorkerPool:
    """``size`` worker processes and one FIFO queue. Thread-safe; one per server."""

    def __init__(
        self,
        size: int = 2,
        *,
        max_jobs: int = DEFAULT_MAX_JOBS,
        memory_mark_mb: float = DEFAULT_MEMORY_MARK_MB,
        threads_per_worker: int | None = None,
        warm_up: bool = True,
    ):
        self.size = size
        self.max_jobs = max_jobs
        self.memory_mark_mb = memory_mark_mb
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        # one core each when there are enough: two trainings on two cores, no oversubscription
        self.threads_per_worker = threads_per_worker or max(1, cores // size)
        self.warm_up = warm_up
        self._lock = threading.RLock()
        self._queue: deque[RemoteJob] = deque()
        self._workers: list[_Worker] = []
        self._durations: dict[str, deque[float]] = {}
        self.finished = self.recycled = self.crashed = 0
        self._closed = False
        for _ in range(size):
            self._workers.append(self._spawn())
        self._monitor = threading.Thread(target=self._watch_owners, name="siamese-pool-monitor", daemon=True)
        self._monitor.start()

    # ---- the interface -----------------------------------------------------------------------------------
    def submit(self, job: RemoteJob) -> None:
        """Put a job at the end of the line; it starts by itself when a worker is free."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            job._pool = self
            job.queued_at = time.monotonic()
            self._queue.append(job)
            self._dispatch()

    def cancel(self, job: RemoteJob, reason: str | None = None) -> bool:
        """Take a waiting job out of the line (True), or ask a running one to stop (False), by
        the path its owner's Stop takes; ``reason`` reaches the owner either way (None: the
        owner's own words, "left the queue before it started" or "stopped by the user")."""
        return job._control("abandon" if reason == ABANDONED else "stop", reason)

    def place(self, job: RemoteJob) -> tuple[int, float] | None:
        """(1-based place in line, estimated seconds until it starts), or None when not waiting."""
        with self._lock:
            if job not in self._queue:
                return None
            position = self._queue.index(job) + 1
            now = time.monotonic()
            free_at = []
            for worker in self._workers:
                running = worker.job
                remaining = 0.0
                if running is not None:
                    remaining = max(self._expected(running) - (now - running.started_at), 1.0)
                    if running.kind == "training" and (eta := running.snapshot().eta_seconds) is not None:
                        remaining = eta + 2.0  # + the test evaluation
                elif not worker.ready.is_set():
                    remaining = max(5.0 - (now - worker.started), 0.0)  # TensorFlow still importing
                free_at.append(remaining)
            heapq.heapify(free_at)
            for ahead in list(self._queue)[: position - 1]:
                heapq.heappush(free_at, heapq.heappop(free_at) + self._expected(ahead))
            return position, free_at[0] if free_at else 0.0

    def stats(self, memory: bool = False) -> PoolStats:
        """What the pool is doing; each worker's memory too with ``memory`` (reads /proc)."""
        with self._lock:
            now = time.monotonic()
            workers = tuple(
                WorkerInfo(
                    w.pid,
                    pss_mb(w.pid) if memory else 0.0,
                    w.jobs_done,
                    f"{w.job.name} ({w.job.owner})" if w.job else "",
                )
                for w in self._workers
            )
            return PoolStats(
                self.size,
                sum(w.job is not None for w in self._workers),
                len(self._queue),
                workers,
                self.finished,
                self.recycled,
                self.crashed,
                tuple((j.name, j.owner) for j in self._queue),
                tuple((w.job.name, w.job.owner, now - w.job.started_at) for w in self._workers if w.job),
            )

    def jobs(self) -> tuple[tuple[RemoteJob, ...], tuple[RemoteJob, ...]]:
        """(the waiting jobs in order, the running ones): what the teacher's page can stop."""
        with self._lock:
            return tuple(self._queue), tuple(w.job for w in self._workers if w.job is not None)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers]

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for job in list(self._queue):
                job._leave_queue("the server is shutting down")
            self._queue.clear()
            workers = list(self._workers)
        for worker in workers:
            worker.send(("exit",))
        for worker in workers:
            try:
                worker.process.wait(5)
            except subprocess.TimeoutExpired:
                worker.process.kill()

    # ---- inside ------------------------------------------------------------------------------------------
    def _expected(self, job: RemoteJob) -> float:
        past = self._durations.get(job.kind)
        return float(np.median(past)) if past else DEFAULT_SECONDS_PER_JOB

    def _spawn(self) -> _Worker:
        parent, child = socket.socketpair()
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "siamese_core.workers",
                str(child.fileno()),
                str(self.threads_per_worker),
                "1" if self.warm_up else "0",
            ],
            pass_fds=(child.fileno(),),
            env=env,
            cwd=root,
        )
        child.close()
        worker = _Worker(process, Connection(parent.detach()))
        threading.Thread(
            target=self._read, args=(worker,), name=f"siamese-pool-{process.pid}", daemon=True
        ).start()
        return worker

    def _dispatch(self) -> None:
        """Give waiting jobs to idle workers (under the lock)."""
        for worker in self._workers:
            if not self._queue:
                return
            if worker.job is None and not worker.retiring and worker.process.poll() is None:
                job = self._queue.popleft()
                worker.job = job
                job._dispatched()
                if not worker.send(job._message()):
                    continue  # its reader thread sees the dead worker and fails the job
                for action, argument in job._controls:
                    worker.send(("control", job.id, action, argument))
                job._controls.clear()

    def _control(self, job: RemoteJob, action: str, argument: Any) -> bool:
        """A job's control: a stop takes a waiting job out of the line (True); anything else
        waits with it, or goes to its worker at once."""
        stop = action in ("stop", "abandon")
        reason = ABANDONED if action == "abandon" else argument
        with self._lock:
            if job in self._queue:
                if stop:
                    self._queue.remove(job)
                    job._leave_queue(reason or LEFT_QUEUE)
                    return True
                job._controls.append((action, argument))
                return False
            worker = next((w for w in self._workers if w.job is job), None)
            if worker is not None and stop and not job.stop_reason:
                job.stop_reason = reason or STOPPED_BY_USER
        if worker is not None:
            worker.send(("control", job.id, action, argument))
        return False

    def _read(self, worker: _Worker) -> None:
        """One thread per worker: its messages, until it exits or dies."""
        while True:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # a message we cannot read: this worker cannot be trusted
                worker.process.kill()
                break
            kind = message[0]
            if kind == "ready":
                worker.ready.set()
            elif kind == "sync":
                job = worker.job
                if job is not None and job.id == message[1]:
                    job._sync(message[2])
            elif kind == "done":
                self._job_done(worker, message[1], message[2])
        self._worker_gone(worker)

    def _job_done(self, worker: _Worker, job_id: int, payload: dict) -> None:
        job = worker.job
        if job is None or job.id != job_id:
            return
        job._finish(payload)
        with self._lock:
            worker.job = None
            worker.jobs_done += 1
            self.finished += 1
            self._durations.setdefault(job.kind, deque(maxlen=20)).append(job.ended_at - job.started_at)
            if worker.jobs_done >= self.max_jobs or payload.get("pss_mb", 0.0) > self.memory_mark_mb:
                self._retire(worker)
            self._dispatch()

    def _retire(self, worker: _Worker) -> None:
        """Replace a worker (under the lock): the new one starts importing TensorFlow now."""
        worker.retiring = True
        worker.send(("exit",))
        self.recycled += 1
        self._workers[self._workers.index(worker)] = self._spawn()

    def _worker_gone(self, worker: _Worker) -> None:
        code = worker.process.wait()
        with self._lock:
            job, worker.job = worker.job, None
            if worker in self._workers:  # died (or shut down), not retired
                if not self._closed:
                    self.crashed += 1
                    self._workers[self._workers.index(worker)] = self._spawn()
                else:
                    self._workers.remove(worker)
        if job is not None and not job.ended:
            job._fail(crash_sentence(code))
        with self._lock:
            if not self._closed:
                self._dispatch()

    def _watch_owners(self) -> None:
        """Every few seconds: jobs whose owners left give up their place, or stop."""
        while not self._closed:
            time.sleep(ALIVE_CHECK_SECONDS)
            with self._lock:
                jobs = list(self._queue) + [w.job for w in self._workers if w.job is not None]
            for job in jobs:
                try:
                    gone = job.keep_alive is not None and not job.keep_alive()
                except Exception:
                    gone = False
                if gone:
                    self.cancel(job, ABANDONED)


def compute_elsewhere(name: str, target: str, kwargs: dict, timeout: float | None = 600.0) -> Any:
    """Run ``target(report, **kwargs)`` in a process of its own, started for it and gone after:
    the server's own heavy figures (computed once per server) neither wait behind the students'
    trainings nor leave their memory in the web server."""
    pool = WorkerPool(1, warm_up=False, threads_per_worker=None)
    try:
        task = RemoteTask(name, target, kwargs)
        task.owner = "server"
        pool.submit(task)
        if not task.join(timeout):
            raise RuntimeError(f"{name}: no answer within {timeout:.0f} s")
        snapshot = task.snapshot()
        if snapshot.status != Status.FINISHED:
            raise RuntimeError(f"{name}: {snapshot.error or snapshot.status}")
        return snapshot.result
    finally:
        pool.shutdown()


def crash_sentence(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {
            "SIGKILL": "it was killed, usually because the server ran out of memory",
            "SIGABRT": "TensorFlow aborted",
            "SIGSEGV": "it crashed",
        }.get(name, f"it received {name}")
    else:
        why = f"it exited with code {code}"
    return (
        f"the worker process running this training ended unexpectedly ({why}). Nothing else was "
        "affected: your pages, your model and the other students' trainings go on. Press Start to try again."
    )


# ---- the worker process ----------------------------------------------------------------------------------------
class _WorkerSide:
    """State of one worker process: the job it runs and the controls that reach it."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.send_lock = threading.Lock()
        self.inbox: queue.Queue = queue.Queue()
        self.jobs: dict[int, Any] = {}  # id -> TrainingJob or a task's stop flag
        self.stop_reasons: dict[int, str] = {}  # a stopped task's reason, until its payload carries it
        self.datasets: dict[DatasetRef, Any] = {}

    def send(self, message: tuple) -> None:
        with self.send_lock:
            self.conn.send(message)

    def dataset(self, ref: DatasetRef):
        if ref not in self.datasets:
            from .data import load_dataset

            while len(self.datasets) >= 2:  # full MNIST is ~55 MB a split: keep two at most
                self.datasets.pop(next(iter(self.datasets)))
            self.datasets[ref] = load_dataset(ref.name, ref.seed, ref.held_out, val_size=ref.val_size)
        return self.datasets[ref]

    def listen(self) -> None:
        """The reader thread: controls act at once on the running job; jobs go to the inbox."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: nothing to train for
            if message[0] == "control":
                self.apply(*message[1:])
            elif message[0] == "train":
                from .training import TrainingJob

                _, job_id, config, options = message
                self.jobs[job_id] = TrainingJob(
                    config,
                    None,
                    max_batches=options["max_batches"],
                    probe_per_class=options["probe_per_class"],
                    test_protocol=options["test_protocol"],
                )
                self.inbox.put(message)
            elif message[0] == "task":
                self.jobs[message[1]] = threading.Event()
                self.inbox.put(message)
            else:
                self.inbox.put(message)

    def apply(self, job_id: int, action: str, argument: Any) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        if isinstance(job, threading.Event):  # a task: only stop
            if action in ("stop", "abandon"):
                reason = ABANDONED if action == "abandon" else argument or STOPPED_BY_USER
                self.stop_reasons.setdefault(job_id, reason)  # the first stop's reason, as on the server
                job.set()
            return
        if action == "abandon":
            from .training import ABANDONED as reason

            job._set(reason=reason)
            job.stop()
        elif action == "stop":
            if not job.reason:  # the first stop's reason, as on the server
                job._set(reason=argument or STOPPED_BY_USER)
            job.stop()
        elif action == "step":
            job.step(int(argument or 1))
        elif action in ("pause", "resume"):
            getattr(job, action)()

    def run_training(self, job_id: int, options: dict) -> None:
        job = self.jobs[job_id]
        job.dataset = self.dataset(options["dataset"])
        sent = {"batches": 0, "epochs": 0, "probes": 0, "index": False}
        sync_lock = threading.Lock()

        def sync(_event=None) -> None:
            with sync_lock, job._lock:
                state = {
                    "status": str(job.status),
                    "reason": job.reason,
                    "device": job.device,
                    "steps_per_epoch": job.steps_per_epoch,
                    "global_step": job.global_step,
                    "threshold": job.threshold,
                    "elapsed": job._elapsed(),
                    "clock_running": bool(job._fit_started),
                    "batches": job.batches[sent["batches"] :],
                    "epochs": job.epochs[sent["epochs"] :],
                    "probes": job.probe_snapshots[sent["probes"] :],
                    "probe_index": None if sent["index"] else job.probe_index,
                }
                sent.update(
                    batches=len(job.batches),
                    epochs=len(job.epochs),
                    probes=len(job.probe_snapshots),
                    index=job.probe_index is not None,
                )
                self.send(("sync", job_id, state))

        job.on_event = sync
        job.run()
        sync()
        payload = {
            "status": str(job.status),
            "reason": job.reason,
            "result": job.result,
            "report": job.report,
            "model": None,
        }
        if job.model is not None and job.result is not None:
            from .persistence import model_bytes

            payload["model"] = ModelBytes(model_bytes(job.model, job.config))
        job.model = job.on_event = job.report = None
        self.finish(job_id, payload)

    def run_task(self, job_id: int, target: str, kwargs: dict) -> None:
        stop = self.jobs[job_id]
        last = [0.0]

        def report(fraction: float, message: str, state: Any = None) -> None:
            """A task's progress; ``state`` (optional, small) is what its page draws live."""
            if stop.is_set():
                raise Stopped()
            now = time.monotonic()
            if now - last[0] >= 0.2:
                last[0] = now
                progress = {"progress": min(max(fraction, 0.0), 1.0), "message": message}
                self.send(("sync", job_id, progress if state is None else {**progress, "state": state}))

        try:
            module, _, name = target.partition(":")
            fn = getattr(importlib.import_module(module), name)
            result = fn(report, **decode(kwargs, self.dataset))
            payload = {"status": str(Status.FINISHED), "result": encode(result)}
        except Stopped:
            payload = {
                "status": str(Status.STOPPED),
                "reason": self.stop_reasons.get(job_id) or STOPPED_BY_USER,
            }
        except Exception as exc:
            payload = {"status": str(Status.FAILED), "error": f"{type(exc).__name__}: {exc}"}
        self.finish(job_id, payload)

    def finish(self, job_id: int, payload: dict) -> None:
        from .memory import release_free_memory

        self.jobs.pop(job_id, None)
        self.stop_reasons.pop(job_id, None)
        release_free_memory()
        payload["pss_mb"] = pss_mb()
        self.send(("done", job_id, payload))


def _warm_up() -> None:
    """Build and fit a tiny model once, so a student's first training skips Keras's first-time
    costs (about a second)."""
    import tensorflow as tf

    from .config import SiameseConfig
    from .data import Pairs
    from .models import build_siamese
    from .training import compile_model, pair_dataset

    config = SiameseConfig(epochs=1, batch_size=8)
    model = build_siamese(config)
    compile_model(model, config)
    images = tf.constant(np.zeros((16, 28, 28), np.uint8))
    index = np.arange(16, dtype=np.int64)
    pairs = Pairs(index, index[::-1].copy(), np.ones((16, 1), np.float32))
    model.fit(pair_dataset(images, pairs, 8), epochs=1, verbose=0, shuffle=False)


def worker_main(fd: int, threads: int, warm_up: bool) -> None:
    from .memory import limit_malloc_arenas

    limit_malloc_arenas()
    side = _WorkerSide(Connection(fd))
    from ._keras import keras

    # Keras first, through _keras (without its scikit-learn and pandas bridges: -120 MB per
    # worker); a plain ``import tensorflow`` first would load them. This statement keeps the two
    # imports apart (an import sorter would swap them).
    del keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing warnings: each job builds its own model
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):  # workers share a GPU: take memory as needed
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.experimental.set_memory_growth(gpu, True)
    from . import training  # noqa: F401  (Keras and the job, imported once)

    # Listen only now: an import in the listener while this thread imports TensorFlow
    # deadlocks on the module locks. Messages sent meanwhile wait in the socket.
    threading.Thread(target=side.listen, name="siamese-worker-listen", daemon=True).start()

    if warm_up:
        with contextlib.suppress(Exception):  # a warm-up is an optimisation only
            _warm_up()
    side.send(("ready", os.getpid()))
    while True:
        message = side.inbox.get()
        if message[0] == "exit":
            break
        if message[0] == "train":
            side.run_training(message[1], message[3])
        elif message[0] == "task":
            side.run_task(message[1], message[2], message[3])
    side.conn.close()


if __name__ == "__main__":  # pickled classes must be siamese_core.workers', not __main__'s
    from siamese_core.workers import worker_main

    worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1")
