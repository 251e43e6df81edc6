"""Trainings in worker processes, behind one first-in-first-out queue.

Why processes: Keras/TensorFlow's training path keeps a few MB of every ``fit`` in the process
that ran it, for good (measured: ~13 MB per small training, even after ``clear_session``); a
process that exits returns all of it. So the web server never trains: it keeps a
:class:`WorkerPool` of ``size`` long-lived worker processes (TensorFlow imported once, so a
training starts in about a second), sends each job to an idle worker, mirrors the job's
progress in a :class:`RemoteTrainingJob` or :class:`RemoteTask` that the pages read exactly like
the in-process jobs, and recycles a worker after ``max_jobs`` jobs or above a memory mark (``retirement.py``).
A worker that dies (out of memory, a TensorFlow abort) fails its one job with a sentence; the
pool starts a new worker and the queue goes on.

The pool's interface is small on purpose: ``submit``, ``cancel``, ``place``, ``stats`` and the
jobs' own ``snapshot / pause / resume / step / stop``. A school that outgrows one server replaces
it with an existing job queue (README, "Past one server").

The messages and what travels in them: ``protocol.py``; the mirrors the pages read:
``mirrors.py``; the line's wait estimates and the paused-yield rule: ``line.py``; the worker
process: ``worker.py``; the template process that forks the workers on Linux where two or more
are planned (a replacement ready in hundredths of a second): ``template.py``.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from siamese_core.jobs import (
    MODEL_DROPPED,
    PAUSED_TOO_LONG,
    SHUTTING_DOWN,
    STOPPED_BY_USER,
    Status,
)
from siamese_core.serving import template
from siamese_core.serving.container import (
    MEMORY_MARK_MB,
    WORKER_MB,
    core_for,
    cores_to_pin,
    may_start,
    read_limits,
)
from siamese_core.serving.line import (
    PAUSED_YIELD_SECONDS,
    expected_seconds,
    first_free,
    free_in,
    paused_too_long,
)
from siamese_core.serving.memory import pss_mb
from siamese_core.serving.mirrors import RemoteJob, RemoteTask
from siamese_core.serving.pool_report import (
    Place,
    PoolStats,
    ServiceError,
    WorkerInfo,
    crash_sentence,
)
from siamese_core.serving.protocol import (
    ABANDONED,
    LEFT_QUEUE,
    Action,
    Answer,
    Call,
    Control,
    Done,
    Exit,
    ModelBytes,
    ModelRef,
    Ready,
    RunTask,
    Synced,
    decode,
    model_refs,
)
from siamese_core.serving.registry import ModelGone, ModelRegistry
from siamese_core.serving.retirement import DEFAULT_MAX_JOBS, Retirement
from siamese_core.serving.worker_handle import PendingCall, WorkerHandle

DEFAULT_MEMORY_MARK_MB = MEMORY_MARK_MB  # a worker is replaced past this, or DEFAULT_MAX_JOBS jobs
CALL_TIMEOUT_SECONDS = 120.0  # a page's call that takes longer fails with a sentence
EXIT_SECONDS = 20.0  # a process whose connection closed is killed if it has not ended by then
ALIVE_CHECK_SECONDS = 2.0  # how often the pool asks whether queued and running jobs' owners are there


# ---- the pool ----------------------------------------------------------------------------------------------
class WorkerPool:
    """The model service: ``max(size, 1)`` worker processes, ``size`` trainings at a time from one
    FIFO queue, and the pages' calls answered by every worker next to its training. With
    ``size`` 0 (a container too small to train in) one worker still answers the calls.
    Thread-safe; one per server."""

    def __init__(
        self,
        size: int = 2,
        *,
        max_jobs: int = DEFAULT_MAX_JOBS,
        memory_mark_mb: float = DEFAULT_MEMORY_MARK_MB,
        threads_per_worker: int | None = None,
        warm_up: bool = True,
        models: ModelRegistry | None = None,
        spare_mb: Callable[[], float] | None = None,
        fork: bool | None = None,
        paused_yield_seconds: float = PAUSED_YIELD_SECONDS,
    ):
        """``spare_mb``: the memory a new process may still use (default: read from the container,
        :attr:`~siamese_core.serving.container.Limits.spare_mb`). ``fork``: fork the model
        processes from a template process (``template.py``); by default where forking is
        available and the plan wants two processes or more. Measured (BENCHMARKS.md): a template
        and two forks take ~170 MB less than two processes started alone, but a template and one
        fork ~40 MB more, which took the smallest container (690 MB) over its limit."""
        self.size = size
        self.paused_yield_seconds = paused_yield_seconds
        self.models = models or ModelRegistry()
        self._call_ids = iter(range(1, 2**62))
        self._device = ""
        self._any_ready = threading.Condition()
        self.retirement = Retirement(max_jobs, memory_mark_mb)  # when a process is replaced
        # the cores the container's CPU quota allows, not the machine's: a 1-core quota on a 2-core
        # machine ran TensorFlow on 2 threads, which then wait for each other's share (a classroom
        # run alone in a 1-core cgroup: 6.2-7.4 s with 2 threads, 6.0 s with 1)
        cores = max(1, int(read_limits().cpus + 1e-9))
        # one core each when there are enough: two trainings on two cores, no oversubscription
        self.threads_per_worker = threads_per_worker or max(1, cores // max(size, 1))
        self.warm_up = warm_up and size > 0  # a worker that never trains needs no training warm-up
        self.pinned = cores_to_pin(size, self.threads_per_worker, read_limits().cpus)  # one core each, or ()
        self._lock = threading.RLock()
        self._queue: deque[RemoteJob] = deque()
        self._workers: list[WorkerHandle] = []
        self._durations: dict[str, deque[float]] = {}
        self.finished = self.recycled = self.crashed = 0
        self._closed = False
        self.wanted = max(size, 1)  # processes: one answers the pages even where none may train
        self._spare_mb = spare_mb or (lambda: read_limits().spare_mb)
        self._measured_mb = 0.0  # the largest model process seen so far (PSS)
        self._staffing = threading.Condition(self._lock)
        self._template: template.ProcessTemplate | None = None  # made by the first _spawn
        self._fork = template.available() and self.wanted >= 2 if fork is None else fork
        self._spawned = 0
        self._workers.append(self._spawn())  # the first at once; the others by the starter
        self._monitor = threading.Thread(target=self._watch_owners, name="siamese-pool-monitor", daemon=True)
        self._monitor.start()
        self._starter = threading.Thread(target=self._keep_staffed, name="siamese-pool-starter", daemon=True)
        self._starter.start()

    # ---- the interface -----------------------------------------------------------------------------------
    def submit(self, job: RemoteJob) -> None:
        """Put a job at the end of the line; it starts by itself when a worker is free."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            job.pool = self
            job.queued_at = time.monotonic()
            self._queue.append(job)
            self._dispatch()

    def call(
        self, target: str, kwargs: dict, *, owner: str = "server", timeout: float = CALL_TIMEOUT_SECONDS
    ) -> Any:
        """``target(**kwargs)`` in the model service, answered next to the running trainings:
        :class:`~siamese_core.serving.protocol.ModelRef` in ``kwargs`` name the models; a model
        in the result comes back as a new ``ModelRef`` owned by ``owner``. Raises
        :class:`ServiceError` (the English reason) when it cannot be answered, and
        :class:`~siamese_core.serving.registry.ModelGone` for a dropped model."""
        handles = model_refs(kwargs)
        self.models.touch(handles)
        deadline = time.monotonic() + timeout
        resend: set[str] = set()
        for _attempt in range(3):  # a worker that let a model go, or died meanwhile: ask again
            worker = self._worker_for_call(deadline, handles)
            pending = PendingCall()
            with self._lock:
                call_id = next(self._call_ids)
                send = {h for h in handles if h not in worker.loaded} | resend
                models = {h: self.models.bytes_of(h) for h in sorted(send)}
                worker.loaded |= send
                worker.calls[call_id] = pending
            if not worker.send(Call(call_id, target, kwargs, models)):
                with self._lock:
                    worker.calls.pop(call_id, None)
                continue
            if not pending.answered.wait(max(deadline - time.monotonic(), 0.0)):
                with self._lock:
                    worker.calls.pop(call_id, None)
                raise ServiceError(f"no answer within {timeout:.0f} s")
            answer = pending.answer
            if answer is None:  # its worker died: another one answers
                continue
            if answer.missing:
                with self._lock:
                    worker.loaded -= set(answer.missing)
                resend = set(answer.missing)
                continue
            if answer.error:
                raise ServiceError(answer.error, answer.problem)
            return decode(answer.result, models=lambda v: self._register(v, owner))
        raise ServiceError("the model service did not answer")

    def _register(self, value: ModelBytes | ModelRef, owner: str) -> ModelRef:
        return value if isinstance(value, ModelRef) else self.models.register(value, owner)

    def _worker_for_call(self, deadline: float, handles=()) -> WorkerHandle:
        """A ready worker, the one with the fewest calls waiting (an idle one before a training one),
        and of those, one that has the call's models already (loading a student's model again costs
        another process ~50 ms of CPU and its memory)."""
        while True:
            with self._lock:
                ready = [
                    w
                    for w in self._workers
                    if w.ready.is_set() and not w.retiring and w.process.poll() is None
                ]
                if ready:
                    return min(
                        ready,
                        key=lambda w: (
                            len(w.calls),
                            w.job is not None,
                            sum(h not in w.loaded for h in handles),
                        ),
                    )
                if self._closed:
                    raise ServiceError("the model service is shut down")
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServiceError("no model service process was ready")
            with self._any_ready:
                self._any_ready.wait(min(left, 0.5))

    def device(self, timeout: float = CALL_TIMEOUT_SECONDS) -> str:
        """What the service computes on ("CPU", or the GPU's name), once a worker has started."""
        deadline = time.monotonic() + timeout
        while not self._device:
            with self._any_ready:
                self._any_ready.wait(0.5)
            if time.monotonic() > deadline:
                raise ServiceError("no model service process was ready")
        return self._device

    def device_now(self) -> str:
        """:meth:`device` without waiting: "" while no worker has started yet."""
        return self._device

    def cancel(self, job: RemoteJob, reason: str | None = None) -> bool:
        """Take a waiting job out of the line (True), or ask a running one to stop (False), by
        the path its owner's Stop takes; ``reason`` reaches the owner either way (None: the
        owner's own words, "left the queue before it started" or "stopped by the user")."""
        return job.control(Action.ABANDON if reason == ABANDONED else Action.STOP, reason)

    def place(self, job: RemoteJob) -> Place | None:
        """Its place in line and the estimated wait (``line.py``), or None when it is not waiting."""
        with self._lock:
            if job not in self._queue:
                return None
            position = self._queue.index(job) + 1
            now = time.monotonic()
            free_at = [
                free_in(
                    w.job,
                    w.ready.is_set(),
                    w.started,
                    now,
                    self._expected(w.job) if w.job is not None else 0.0,
                    self.paused_yield_seconds,
                )
                for w in self._workers
            ]
            ahead = [self._expected(j) for j in list(self._queue)[: position - 1]]
            return Place(position, first_free(free_at, ahead))

    def stats(self, memory: bool = False) -> PoolStats:
        """What the pool is doing; each worker's memory too with ``memory`` (reads /proc)."""
        with self._lock:
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
                size=self.size,
                running=sum(w.job is not None for w in self._workers),
                queued=len(self._queue),
                workers=workers,
                finished=self.finished,
                recycled=self.recycled,
                crashed=self.crashed,
                wanted=self.wanted,
                starting=sum(not w.ready.is_set() and not w.retiring for w in self._workers),
                process_mb=self.process_mb,
                retiring=sum(w.retiring for w in self._workers),
                template_mb=self._template_mb() if memory else 0.0,
                paused=sum(bool(getattr(w.job, "paused_since", 0.0)) for w in self._workers),
            )

    def _template_mb(self) -> float:
        pid = self._template.pid if self._template is not None else None
        return pss_mb(pid) if pid else 0.0

    def jobs(self) -> tuple[tuple[RemoteJob, ...], tuple[RemoteJob, ...]]:
        """(the waiting jobs in order, the running ones): what the teacher's page can stop."""
        with self._lock:
            return tuple(self._queue), tuple(w.job for w in self._workers if w.job is not None)

    def pids(self) -> list[int]:
        """The model processes' ids (one still being forked has none yet)."""
        with self._lock:
            return [w.pid for w in self._workers if w.pid]

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            self._staff_changed()
            for job in list(self._queue):
                job.leave_queue(SHUTTING_DOWN)
            self._queue.clear()
            workers = list(self._workers)
        for worker in workers:
            worker.send(Exit())
        for worker in workers:
            try:
                worker.process.wait(5)
            except subprocess.TimeoutExpired:
                worker.process.kill()
        if self._template is not None:
            self._template.close()

    @property
    def process_mb(self) -> float:
        """The size a new model process is counted at: the largest measured so far, and never less
        than the planned size (a process grows by its first training)."""
        return max(self._measured_mb, WORKER_MB)

    # ---- inside ------------------------------------------------------------------------------------------
    def _live(self) -> list[WorkerHandle]:
        return [w for w in self._workers if not w.retiring and w.process.poll() is None]

    def _keep_staffed(self) -> None:
        """The starter: a process for every one missing (at start, after a retirement or a crash),
        one at a time and only when it fits (:func:`~siamese_core.serving.container.may_start`);
        until then the line waits."""
        while True:
            with self._staffing:
                if self._closed:
                    return
                live = self._live()
                starting = sum(not w.ready.is_set() for w in live)
                leaving = sum(w.retiring and w.process.poll() is None for w in self._workers)
                missing = len(live) < self.wanted
                if missing and may_start(
                    len(live) - starting,
                    starting,
                    leaving,
                    self.wanted,
                    self._room(missing and not starting and bool(live) + leaving > 0),
                    self.process_mb,
                ):
                    self._workers.append(self._spawn())
                    self._dispatch()  # the line's first jobs go to it (they wait in its socket)
                    continue
                self._staffing.wait(1.0 if missing else 5.0)

    def _room(self, needed: bool) -> float:
        """The spare memory, read only when it decides something."""
        if not needed:
            return 0.0
        try:
            return self._spare_mb()
        except Exception:  # an unreadable limit: no extra process rather than a killed server
            return 0.0

    def _staff_changed(self) -> None:
        """Wake the starter (under the lock): a process became ready, retired or ended."""
        self._staffing.notify_all()

    def _expected(self, job: RemoteJob) -> float:
        return expected_seconds(self._durations, job.kind)

    def _spawn(self) -> WorkerHandle:
        """A new model process: forked from the template where there is one (ready in a few
        hundredths of a second), else started from nothing (TensorFlow's import first)."""
        parent, child = socket.socketpair()
        if self._template is None and self._fork:
            self._template = template.ProcessTemplate()
        staying = [w.core for w in self._workers if not w.retiring and w.process.poll() is None]
        core = core_for(self.pinned, staying)
        if self._template is not None and self._template.usable:
            process = self._template.fork(child, self.threads_per_worker, self.warm_up, core)
        else:
            process = template.start_alone(child, self.threads_per_worker, self.warm_up, core)
        worker = WorkerHandle(process, Connection(parent.detach()), core=core)
        self._spawned += 1
        threading.Thread(
            target=self._read, args=(worker,), name=f"siamese-pool-{self._spawned}", daemon=True
        ).start()
        return worker

    def _dispatch(self) -> None:
        """Give waiting jobs to idle workers (under the lock), ``size`` at a time."""
        for worker in self._workers:
            if not self._queue or sum(w.job is not None for w in self._workers) >= self.size:
                return
            if worker.job is None and not worker.retiring and worker.process.poll() is None:
                job = self._queue.popleft()
                worker.job = job
                job.dispatched()
                message = job.start_message()
                if isinstance(message, RunTask):  # the models it names that this worker lacks
                    try:
                        send = {h for h in model_refs(message.kwargs) if h not in worker.loaded}
                        message = RunTask(
                            message.job_id,
                            message.target,
                            message.kwargs,
                            {h: self.models.bytes_of(h) for h in send},
                        )
                        worker.loaded |= send
                    except ModelGone:
                        worker.job = None
                        job.fail(MODEL_DROPPED)
                        continue
                if not worker.send(message):
                    continue  # its reader thread sees the dead worker and fails the job
                for action, argument in job.pending_controls:
                    worker.send(Control(job.id, action, argument))
                job.pending_controls.clear()

    def control(self, job: RemoteJob, action: Action, argument: Any) -> bool:
        """A job's control (its owner's button, through the job): a stop takes a waiting job out
        of the line (True); anything else waits with it, or goes to its worker at once."""
        stop = action in (Action.STOP, Action.ABANDON)
        reason = ABANDONED if action == Action.ABANDON else argument
        with self._lock:
            if job in self._queue:
                if stop:
                    self._queue.remove(job)
                    job.leave_queue(reason or LEFT_QUEUE)
                    return True
                job.pending_controls.append((action, argument))
                return False
            worker = next((w for w in self._workers if w.job is job), None)
            if worker is not None and stop and not job.stop_reason:
                job.stop_reason = reason or STOPPED_BY_USER
        if worker is not None:
            worker.send(Control(job.id, action, argument))
        return False

    def _read(self, worker: WorkerHandle) -> None:
        """One thread per worker: its messages, until it exits or dies."""
        while True:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # a message we cannot read: this worker cannot be trusted
                worker.process.kill()
                break
            match message:
                case Ready(pid=pid, device=device):
                    if isinstance(worker.process, template.ForkedProcess):
                        worker.process._started(pid)  # its own word, if before the template's
                    self._device = self._device or device
                    worker.ready.set()
                    with self._any_ready:
                        self._any_ready.notify_all()
                    with self._lock:
                        worker.ready_mb = pss_mb(worker.pid)
                        self._measured_mb = max(self._measured_mb, worker.ready_mb)
                        self._staff_changed()
                case Answer(call_id=call_id):
                    with self._lock:
                        pending = worker.calls.pop(call_id, None)
                    if pending is not None:
                        pending.answer = message
                        pending.answered.set()
                case Synced(job_id=job_id, state=state):
                    job = worker.job
                    if job is not None and job.id == job_id:
                        job.apply_sync(state)
                case Done():
                    self._job_done(worker, message)
        self._worker_gone(worker)

    def _job_done(self, worker: WorkerHandle, done: Done) -> None:
        job = worker.job
        if job is None or job.id != done.job_id:
            return
        job.apply_payload(done.payload)
        with self._lock:
            worker.job = None
            worker.jobs_done += 1
            self.finished += 1
            self._durations.setdefault(job.kind, deque(maxlen=20)).append(job.ended_at - job.started_at)
            self._measured_mb = max(self._measured_mb, done.pss_mb)
            if job.kind == "training":
                self.retirement.trained(done.pss_mb)
            if self.retirement.after_job(worker.jobs_done, done.pss_mb):
                self._retire(worker)
            self._dispatch()

    def _retire_grown_idle(self) -> None:
        with self._lock:
            idle = [w for w in self._live() if w.job is None and w.ready.is_set() and not w.calls]
        grown = [w for w in idle if self.retirement.when_idle(pss_mb(w.pid), w.ready_mb)]
        with self._lock:
            for worker in grown:
                if worker.job is None and not worker.retiring and not self._closed:
                    self._retire(worker)

    def _retire(self, worker: WorkerHandle) -> None:
        """Replace a worker (under the lock): the starter starts another as soon as it fits (on a
        small container, once this one has exited and given its memory back)."""
        worker.retiring = True
        worker.send(Exit())
        self.recycled += 1
        self._staff_changed()

    def _worker_gone(self, worker: WorkerHandle) -> None:
        with self._lock:
            calls, worker.calls = worker.calls, {}
        for pending in calls.values():  # no answer: the caller asks another worker at once, not
            pending.answered.set()  # after the process has finished exiting (TensorFlow's teardown)
        try:
            code = worker.process.wait(EXIT_SECONDS)
        except subprocess.TimeoutExpired:  # its connection is closed but it does not end: end it
            worker.process.kill()
            code = worker.process.wait()
        with self._lock:
            job, worker.job = worker.job, None
        with self._lock:
            if worker in self._workers:
                if not worker.retiring and not self._closed:  # died, not retired or shut down
                    self.crashed += 1
                self._workers.remove(worker)
                self._staff_changed()  # the starter replaces it
        if job is not None and not job.ended:
            job.fail(crash_sentence(code))
        with self._lock:
            if not self._closed:
                self._dispatch()

    def _watch_owners(self) -> None:
        """Every few seconds: jobs whose owners left give up their place, or stop; an idle process
        that has grown past the memory mark answering the pages' calls is replaced."""
        while not self._closed:
            time.sleep(ALIVE_CHECK_SECONDS)
            self._retire_grown_idle()
            with self._lock:
                jobs = list(self._queue) + [w.job for w in self._workers if w.job is not None]
            for job in jobs:
                try:
                    gone = job.keep_alive is not None and not job.keep_alive()
                except Exception:
                    gone = False
                if gone:
                    self.cancel(job, ABANDONED)
            for job in self.paused_too_long():
                self.cancel(job, PAUSED_TOO_LONG.format(seconds=f"{self.paused_yield_seconds:.0f}"))

    def paused_too_long(self) -> list[RemoteJob]:
        """Running trainings paused for ``paused_yield_seconds`` or more while a job waits in line."""
        now = time.monotonic()
        with self._lock:
            if not self._queue:
                return []
            running = [w.job for w in self._workers if w.job is not None]
        return paused_too_long(running, now, self.paused_yield_seconds)


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
