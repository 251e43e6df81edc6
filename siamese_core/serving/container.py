"""The container the server runs in: its memory limit and CPU quota, read from the kernel's
control groups, and how many model processes fit in it.

Community Cloud gives an app 690 MB to 2.7 GB and 0.078 to 2 cores; a laptop gives it the
machine. A process that does not fit is never started: the kernel would kill the largest process
when memory runs out, and that was the web server (issue 26's table: every student then saw
"Connection error"). Read in this order: cgroup v2 (``memory.max``, ``cpu.max``), cgroup v1
(``memory.limit_in_bytes``, ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), else the machine's own
memory and cores. Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from siamese_core.i18n import N_, _, ngettext

MB = 2**20
UNLIMITED = 2**60  # cgroup v1 writes "no limit" as about 2**63 rounded to a page; anything above this

# Measured sizes (BENCHMARKS.md, "The classroom in a container"): the web server, which imports no
# TensorFlow, with thirty students' sessions (PSS 305 -> 469 MB over a class of 30); a model process
# that trains the classroom preset on full MNIST, beyond what the web server already holds; and what
# is kept free for the page cache TensorFlow's own code is read from (below that, code pages are
# evicted and read again and again, and nothing progresses). One model process always runs: it
# answers the pages' calls (Compare, Embeddings, Evaluate, the lab) and trains when it fits.
WORKER_MB = 500  # tensorflow-cpu: ~460 MB PSS answering calls, ~530 MB after trainings
SERVER_MB = 400  # the web server without TensorFlow
HEADROOM_MB = 100
MEMORY_MARK_MB = 1000.0  # a model process is replaced above this (PSS) on any server
GROWTH_MB = 100  # what a process may grow above its planned size before it is replaced, at least
MACHINE = N_("the machine")  # where a limit was read when no control group sets one (shown through _())


@dataclass(frozen=True)
class Limits:
    """What the server may use, and where each number was read."""

    memory_bytes: int  # the limit, or the machine's memory when there is none
    memory_source: str  # "cgroup v2 memory.max", "cgroup v1 memory.limit_in_bytes" or MACHINE
    cpus: float  # cores the quota allows (0.078 on the smallest Community Cloud app), or the machine's
    cpu_source: str
    used_bytes: int | None  # what the group uses now (cgroup's own count), None without a group
    reclaimable_bytes: int = 0  # of that, inactive file cache the kernel gives back before killing

    @property
    def memory_mb(self) -> float:
        return self.memory_bytes / MB

    @property
    def spare_mb(self) -> float:
        """What a new process may still use: the limit less the group's working set (its use less
        the inactive file cache, as Kubernetes counts it), or the machine's available memory
        (``MemAvailable``) where no control group sets a limit."""
        if self.memory_source == MACHINE or self.used_bytes is None:
            return _available_mb()
        return (self.memory_bytes - self.used_bytes + self.reclaimable_bytes) / MB


@dataclass(frozen=True)
class Plan:
    """How many model processes (trainings at once) this container runs, and why that many."""

    workers: int
    limits: Limits
    worker_mb: float
    server_mb: float
    by_cpu: int  # workers the cores allow
    by_memory: int  # workers the memory allows

    @property
    def memory_mark_mb(self) -> float:
        """How big one model process may grow before it is replaced: its share of the memory left
        beside the web server (it grows with the models and data it keeps: one was killed at 1 GB
        with 635 MB of its own), never less than its planned size with room for a training, never
        more than ``MEMORY_MARK_MB``."""
        share = (self.limits.memory_mb - self.server_mb - HEADROOM_MB) / max(self.workers, 1)
        return min(MEMORY_MARK_MB, max(share, self.worker_mb + GROWTH_MB))

    @property
    def reason(self) -> str:
        """Why that many, in the caller's language: built when a page shows it (the server's
        worker pool, cached for everyone, reads only ``workers``)."""
        limits = self.limits
        memory = _("{memory_mb:,.0f} MB of memory ({source})").format(
            memory_mb=limits.memory_mb, source=_(limits.memory_source)
        )
        if self.workers == 0:
            return _(
                "This server has {memory}: the web server needs about {server_mb:,.0f} MB and a training "
                "about {worker_mb:,.0f} MB more, so it cannot train without risking the whole app. Everything "
                "else works; for trainings, run the app on a laptop or ask the host for more memory."
            ).format(memory=memory, server_mb=self.server_mb, worker_mb=self.worker_mb)
        cpus = _("{cpus:.3g} cores ({source})").format(cpus=limits.cpus, source=_(limits.cpu_source))
        if self.by_cpu <= self.by_memory:
            sentence = ngettext(
                "{workers} training at once: this server has {cpus} and {memory}; the number of cores decides.",
                "{workers} trainings at once: this server has {cpus} and {memory}; the number of cores decides.",
                self.workers,
            )
        else:
            sentence = ngettext(
                "{workers} training at once: this server has {cpus} and {memory}; the memory decides.",
                "{workers} trainings at once: this server has {cpus} and {memory}; the memory decides.",
                self.workers,
            )
        return sentence.format(workers=self.workers, cpus=cpus, memory=memory)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _groups(proc_cgroup: Path) -> tuple[str | None, dict[str, str]]:
    """This process's cgroup v2 path, and its v1 path per controller, from /proc/self/cgroup."""
    v2, v1 = None, {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        number, controllers, path = parts
        if number == "0" and controllers == "":
            v2 = path
        for controller in controllers.split(","):
            if controller:
                v1[controller] = path
    return v2, v1


def _up(base: Path, path: str | None) -> list[Path]:
    """The group's folder and each folder above it, down to the mount: a limit set on a parent
    holds for its children (inside a container the mount is often the group itself)."""
    folders = [base]
    if path:
        parts = [p for p in path.strip("/").split("/") if p]
        folders = [base.joinpath(*parts[:k]) for k in range(len(parts), -1, -1)]
    return [f for f in folders if f.is_dir()]


def _machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def _available_mb(meminfo: str | os.PathLike = "/proc/meminfo") -> float:
    for line in (_read(Path(meminfo)) or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return _machine_memory() / MB


def _stat(folder: Path, *names: str) -> int:
    """The first of ``names`` found in the group's ``memory.stat`` (0 when none is)."""
    values = dict(
        line.split()[:2] for line in (_read(folder / "memory.stat") or "").splitlines() if " " in line
    )
    return next((int(values[name]) for name in names if name in values), 0)


_CORES_AT_START: tuple[int, ...] | None = None


def allowed_cores() -> tuple[int, ...]:
    """The cores this process may run on, as they were the first time it asked: the web server keeps
    itself to one of them later (siamese_ui/resources.worker_pool), and a pool made again afterwards
    (new code deployed under a running server, a cleared cache) must plan from the machine's cores,
    not from that one."""
    global _CORES_AT_START
    if _CORES_AT_START is None:
        try:
            _CORES_AT_START = tuple(sorted(os.sched_getaffinity(0)))
        except (AttributeError, OSError):  # not Linux
            _CORES_AT_START = tuple(range(os.cpu_count() or 1))
    return _CORES_AT_START


def _machine_cpus() -> float:
    return float(len(allowed_cores()))


def read_limits(
    root: str | os.PathLike = "/sys/fs/cgroup", proc_cgroup: str | os.PathLike = "/proc/self/cgroup"
) -> Limits:
    """The memory limit and CPU quota this process runs under (the smallest along its groups)."""
    root, v2_path_and_v1 = Path(root), _groups(Path(proc_cgroup))
    v2_path, v1_paths = v2_path_and_v1
    memory, memory_source, used, reclaimable = None, MACHINE, None, 0
    cpus, cpu_source = None, MACHINE

    if (root / "cgroup.controllers").exists():  # a cgroup v2 mount
        for folder in _up(root, v2_path):
            raw = _read(folder / "memory.max")
            if raw and raw != "max" and (memory is None or int(raw) < memory):
                memory, memory_source = int(raw), "cgroup v2 memory.max"
            if used is None and (current := _read(folder / "memory.current")):
                used, reclaimable = int(current), _stat(folder, "inactive_file")
            quota = (_read(folder / "cpu.max") or "max").split()
            if quota[0] != "max" and len(quota) == 2 and int(quota[1]) > 0:
                allowed = int(quota[0]) / int(quota[1])
                if cpus is None or allowed < cpus:
                    cpus, cpu_source = allowed, "cgroup v2 cpu.max"
    else:  # cgroup v1: one folder per controller
        for folder in _up(root / "memory", v1_paths.get("memory")):
            raw = _read(folder / "memory.limit_in_bytes")
            if raw and int(raw) < UNLIMITED and (memory is None or int(raw) < memory):
                memory, memory_source = int(raw), "cgroup v1 memory.limit_in_bytes"
            if used is None and (current := _read(folder / "memory.usage_in_bytes")):
                used, reclaimable = int(current), _stat(folder, "total_inactive_file", "inactive_file")
        cpu_path = v1_paths.get("cpu") or v1_paths.get("cpuacct")
        for name in ("cpu", "cpu,cpuacct"):
            for folder in _up(root / name, cpu_path):
                quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
                if quota and period and int(quota) > 0 and int(period) > 0:
                    allowed = int(quota) / int(period)
                    if cpus is None or allowed < cpus:
                        cpus, cpu_source = allowed, "cgroup v1 cpu.cfs_quota_us"
    machine_cpus = _machine_cpus()
    if cpus is None or cpus > machine_cpus:
        cpus, cpu_source = machine_cpus, MACHINE
    machine_memory = _machine_memory()
    if memory is None or memory > machine_memory:
        memory, memory_source = machine_memory, MACHINE
    return Limits(memory, memory_source, cpus, cpu_source, used, reclaimable)


def plan_workers(limits: Limits, worker_mb: float = WORKER_MB, server_mb: float = SERVER_MB) -> Plan:
    """One model process per whole core (at least one), and no more than fit in the memory left
    beside the web server with headroom. Zero when not even one fits: the pages then say why."""
    by_cpu = max(1, math.floor(limits.cpus + 1e-9))
    spare = limits.memory_mb - server_mb - HEADROOM_MB
    by_memory = max(0, math.floor(spare / worker_mb))
    return Plan(min(by_cpu, by_memory), limits, worker_mb, server_mb, by_cpu, by_memory)


def may_start(
    live: int, starting: int, leaving: int, wanted: int, spare_mb: float, process_mb: float
) -> bool:
    """Whether the model service starts one more process now (issue 26). ``live``: ready processes;
    ``starting``: still importing TensorFlow; ``leaving``: retired, not exited yet. The first
    always starts once no process is left (the pages need their answers); the others one at a
    time, each once the one before it is ready (its size is then known, and two TensorFlow imports
    do not fight the web server for the cores), and only while the container has room for one
    more process of the measured size with headroom. Otherwise the work waits in the line, where
    nothing is killed."""
    if live + starting >= wanted:
        return False
    if live + starting + leaving == 0:
        return True
    if starting:
        return False
    return spare_mb >= process_mb + HEADROOM_MB


# ---- one core each ------------------------------------------------------------------------------------
def cores_to_pin(processes: int, threads: int, cpus: float) -> tuple[int, ...]:
    """The cores to keep the training processes on, one each, or none.

    Only where the server may run on exactly as many cores as it runs training processes of one
    thread each, and no CPU quota gives it less than those cores (a 2-core machine, or a container
    given two cores of its own): a class of 30 on two cores then took 136.2-136.8 CPU-s of the
    model service, against 139.0-143.5 with the scheduler moving each process's threads between the
    cores beside the web server (BENCHMARKS.md, "One trace per architecture"). Where the server may use
    more cores than that (a laptop, or a CPU quota on a larger machine shared with other
    containers), the scheduler places them: a pinned process would wait for its one core while
    others are free. ``cpus``: the CPU quota, in cores (:attr:`Limits.cpus`)."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux: nothing can be pinned
        return ()
    allowed = allowed_cores()
    if processes < 2 or threads != 1 or len(allowed) != processes or cpus + 1e-9 < len(allowed):
        return ()
    return allowed


def core_for(pinned: tuple[int, ...], taken: list[int]) -> int | None:
    """The core for a new process: of ``pinned``, the one fewest of ``taken`` (the cores of the
    processes that stay) are on; None where nothing is pinned."""
    if not pinned:
        return None
    return min(pinned, key=lambda core: (taken.count(core), core))


def keep_to_core(core: int | None) -> None:
    """Keep every thread of this process, and those it starts later, on ``core`` (None: anywhere)."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        tasks = [int(task) for task in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: this thread, and those it starts
        tasks = [0]
    for task in tasks:
        # a thread that ended meanwhile, or a core no longer allowed: left as it is
        with contextlib.suppress(OSError):
            os.sched_setaffinity(task, {core})
