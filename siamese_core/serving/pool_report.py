"""What the model service reports to the pages: a call it could not answer, its processes and
queue (the Teacher page), a waiting job's place in line, and why a process's job failed. Plain
values, no processes: ``pool.py`` makes them."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from siamese_core.jobs import CRASHED, EXITED, GOT_SIGNAL, KILLED, TENSORFLOW_ABORTED, WORKER_ENDED


class ServiceError(RuntimeError):
    """A call the model service could not answer (English; ``problem`` is a student's bad file or
    picture, with its own sentence)."""

    def __init__(self, message: str, problem: Exception | None = None):
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    pss_mb: float  # its share of memory (libraries shared with the server counted once)
    jobs_done: int
    job: str  # "" when idle; else "training (owner)"


@dataclass(frozen=True)
class Place:
    """Where a waiting job stands in the line."""

    position: int  # 1-based
    wait_seconds: float  # estimated, until it starts


@dataclass(frozen=True)
class PoolStats:
    size: int
    running: int
    queued: int
    workers: tuple[WorkerInfo, ...]
    finished: int
    recycled: int
    crashed: int
    wanted: int = 1  # processes the plan asks for
    starting: int = 0  # of the workers, still importing TensorFlow
    process_mb: float = 0.0  # the size a new process is counted at (measured)
    retiring: int = 0  # of the workers, retired and not exited yet
    template_mb: float = 0.0  # the template process the workers are forked from (PSS), with ``memory``
    paused: int = 0  # of the running trainings, paused (each keeps its worker until it yields)

    @property
    def waiting_for_room(self) -> int:
        """Processes the plan wants that are not started: the container has no room for them yet
        (or the one before them is still starting)."""
        return max(self.wanted - (len(self.workers) - self.retiring), 0)


def crash_sentence(code: int | None) -> str:
    """Why a worker's job failed, in English: made in the pool's reader thread, where no student's
    language is known; a page shows it with ``siamese_core.jobs.job_text``."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = {"SIGKILL": KILLED, "SIGABRT": TENSORFLOW_ABORTED, "SIGSEGV": CRASHED}.get(
            name, GOT_SIGNAL.format(signal=name)
        )
    else:
        why = EXITED.format(code=code)
    return WORKER_ENDED.format(why=why)
