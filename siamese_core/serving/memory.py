"""Process memory housekeeping for a long-running server (glibc; no-ops elsewhere).

Imports neither TensorFlow nor NumPy, so ``app.py`` can call it before anything heavy loads.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from pathlib import Path


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's per-thread malloc arenas (a long-running server that starts one training
    thread after another otherwise keeps a fragmented arena per thread: measured ~16 MB of
    RSS kept per finished training, ~9 MB with 2 arenas). Same as ``MALLOC_ARENA_MAX``, but
    settable after start-up. Returns False where there is no glibc."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(-8, arenas))  # -8 = M_ARENA_MAX


def release_free_memory() -> None:
    """Collect cycles, then hand freed heap pages back to the OS (glibc ``malloc_trim``)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def rss_mb(pid: int | str = "self", peak: bool = False) -> float:
    """Resident memory of a process in MB (its peak so far with ``peak``), from ``/proc``
    (Linux); 0.0 where unavailable."""
    field = "VmHWM:" if peak else "VmRSS:"
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int | str = "self") -> float:
    """Proportional set size in MB: private memory plus a fair share of pages shared with
    other processes (TensorFlow's libraries, mapped by the server and every worker). Summed over
    processes it counts shared pages once, unlike RSS; 0.0 where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
