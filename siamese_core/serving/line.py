"""The line's arithmetic: when each model process will be free, a waiting job's estimated wait, and
which paused trainings give their process up to it. Pure functions of what the pool holds
(``pool.py`` calls them under its lock); no process, no message."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

DEFAULT_SECONDS_PER_JOB = 15.0  # the wait estimate's guess before any job has finished
# A training paused this long gives its worker up when another waits in line: it is stopped (what it
# has learnt is tested and kept, as after its owner's Stop). One student's Pause, or a student who
# paused and went to read another page, held the only worker of a small server while the class waited.
PAUSED_YIELD_SECONDS = 60.0
TEST_SECONDS = 2.0  # a training's test evaluation after its last batch
IMPORT_SECONDS = 5.0  # a new process's TensorFlow import before it takes a job


def expected_seconds(durations: dict[str, Sequence[float]], kind: str) -> float:
    """A job's expected duration: the median of this kind's past jobs, or the default guess."""
    past = durations.get(kind)
    return float(np.median(past)) if past else DEFAULT_SECONDS_PER_JOB


def free_in(
    running: Any, ready: bool, started: float, now: float, expected: float, paused_yield: float
) -> float:
    """Seconds until one process is free: ``running`` is its job (None when idle), ``expected``
    that job's expected duration, ``started`` when the process started."""
    if running is None:
        return 0.0 if ready else max(IMPORT_SECONDS - (now - started), 0.0)  # TensorFlow still importing
    if paused := getattr(running, "paused_since", 0.0):
        # a paused run does not move: its worker is free when it yields to the line (+ its test),
        # not after its ETA at full speed, which stands still while it waits (a student in line read
        # "about 10 s" for 46 s: exploratory session)
        return max(paused_yield - (now - paused), 0.0) + TEST_SECONDS
    if running.kind == "training" and (eta := running.snapshot().eta_seconds) is not None:
        return eta + TEST_SECONDS
    return max(expected - (now - running.started_at), 1.0)


def first_free(free_at: Iterable[float], ahead: Iterable[float]) -> float:
    """The wait of a job behind the ``ahead`` jobs' expected durations, given when each process is
    free: each job ahead takes the process free first."""
    heap = list(free_at)
    heapq.heapify(heap)
    for seconds in ahead:
        heapq.heappush(heap, heapq.heappop(heap) + seconds)
    return heap[0] if heap else 0.0


def paused_too_long(running: Iterable[Any], now: float, paused_yield: float) -> list[Any]:
    """The running trainings paused for ``paused_yield`` seconds or more, not already stopping."""
    return [
        job
        for job in running
        if getattr(job, "paused_since", 0.0) and now - job.paused_since >= paused_yield and not job.stopping
    ]
