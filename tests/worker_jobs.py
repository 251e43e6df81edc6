"""Small jobs for the worker pool's tests, run inside real worker processes by name."""

from __future__ import annotations

import os
import signal
import time


def nap(report, seconds: float = 0.5) -> dict:
    """Sleep in small steps (stoppable); answer with the worker's pid and when it ran."""
    start = time.time()
    while time.time() - start < seconds:
        report((time.time() - start) / seconds, "napping")
        time.sleep(0.05)
    return {"pid": os.getpid(), "start": start, "end": time.time()}


def die(report) -> None:
    """What an out-of-memory kill looks like from the server: the worker vanishes mid-job."""
    report(0.5, "about to die")
    os.kill(os.getpid(), signal.SIGKILL)


def fail(report) -> None:
    raise ValueError("a clear reason")


def grow(report, mb: int) -> int:
    """Hold ``mb`` MB until the process ends (to cross the pool's memory mark)."""
    return hold(mb)


def slow_answer(seconds: float) -> int:
    """A page's call that takes ``seconds``: answers with the worker's pid."""
    time.sleep(seconds)
    return os.getpid()


def hold(mb: int) -> int:
    """A page's call (or, through ``grow``, a job) that leaves ``mb`` MB behind in its worker until
    the process ends (a model store that grew): every page touched, so it is resident."""
    global _kept
    _kept = bytearray(mb * 2**20)
    for i in range(0, len(_kept), 4096):
        _kept[i] = 1
    return os.getpid()


_kept = b""


def tensorflow_threads() -> list[int]:
    """A page's call: the TensorFlow thread counts this worker runs with (intra-op, inter-op)."""
    import tensorflow as tf

    return [
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    ]


def gc_state(report) -> dict:
    """What the collector of this worker holds: frozen objects, and those it still goes through."""
    import gc

    gc.collect()
    return {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
