"""What every long computation of the app shares: its status, a server-wide limit on how many
run at once, and a small background task for the lessons' trainings. Knows nothing of any UI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .memory import release_free_memory


class Status(StrEnum):
    """A job's state, in the order a job normally goes through them."""

    IDLE = "idle"  # made, not started
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
        """Holds (or is about to hold) a training slot."""
        return self in (Status.STARTING, Status.RUNNING, Status.PAUSED)


class TrainingSlots:
    """A server-wide limit on concurrent trainings; ``try_acquire`` never blocks."""

    def __init__(self, limit: int = 2):
        self.limit = limit
        self._sem = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_use = 0

    def try_acquire(self) -> bool:
        ok = self._sem.acquire(blocking=False)
        if ok:
            with self._lock:
                self.in_use += 1
        return ok

    def release(self) -> None:
        with self._lock:
            self.in_use -= 1
        self._sem.release()


@dataclass(frozen=True)
class TaskSnapshot:
    """What a page reads of a :class:`BackgroundTask`."""

    status: Status
    progress: float  # 0..1
    message: str
    elapsed: float
    result: Any
    error: str


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


class BackgroundTask(ThreadedJob):
    """A function run in a daemon thread, with progress and a stop request.

    ``fn(report)`` computes and returns a result; it calls ``report(fraction, message)`` now
    and then, which raises :class:`Stopped` once :meth:`stop` was called. An exception ends
    the task as FAILED with its message; the page shows it instead of a traceback.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[[Callable[[float, str], None]], Any],
        keep_alive: Callable[[], bool] | None = None,
    ):
        self.name = name
        self._fn = fn
        self.keep_alive = keep_alive  # asked at each report; False stops the task (its owner left)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = Status.IDLE
        self._progress, self._message, self._error = 0.0, "", ""
        self._result: Any = None
        self._started = 0.0
        self._ended = 0.0

    def start(self, on_exit: Callable[[], None] | None = None) -> None:
        if self._thread is not None:
            raise RuntimeError("a task runs once")
        self._set(status=Status.RUNNING)
        self._started = time.perf_counter()

        def target():
            try:
                result = self._fn(self._report)
                self._set(status=Status.FINISHED, result=result, progress=1.0)
            except Stopped:
                self._set(status=Status.STOPPED, message="stopped")
            except Exception as exc:  # the page must see the reason, not a dead thread
                self._set(status=Status.FAILED, error=f"{type(exc).__name__}: {exc}")
            finally:
                self._ended = time.perf_counter()
                if on_exit is not None:
                    on_exit()
                release_free_memory()

        self._thread = threading.Thread(target=target, name=f"siamese-task-{self.name}", daemon=True)
        self._thread.start()

    def _report(self, fraction: float, message: str) -> None:
        if self.keep_alive is not None and not self.keep_alive():
            self._stop.set()
        if self._stop.is_set():
            raise Stopped()
        self._set(progress=min(max(fraction, 0.0), 1.0), message=message)

    def stop(self) -> None:
        self._stop.set()

    def _set(self, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self, "_" + key, value)

    def snapshot(self) -> TaskSnapshot:
        with self._lock:
            end = self._ended or time.perf_counter()
            return TaskSnapshot(
                self._status,
                self._progress,
                self._message,
                end - self._started if self._started else 0.0,
                self._result,
                self._error,
            )
