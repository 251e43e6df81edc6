"""The container's limits read from fake cgroup trees (v2, v1, none), and the number of model
processes planned for Community Cloud's sizes, worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from siamese_core.serving.container import (
    HEADROOM_MB,
    MB,
    SERVER_MB,
    WORKER_MB,
    Limits,
    may_start,
    plan_workers,
    read_limits,
)

GB = 2**30


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_cgroup_v2_limits_are_read_along_the_groups_path(tmp_path):
    root, proc = tmp_path / "cgroup", tmp_path / "self-cgroup"
    write(proc, "0::/app/server")
    write(root / "cgroup.controllers", "cpu memory")
    write(root / "app" / "memory.max", str(2 * GB))  # the parent's limit holds for its child
    write(root / "app" / "server" / "memory.max", "max")
    write(root / "app" / "server" / "memory.current", str(300 * MB))
    write(root / "app" / "server" / "cpu.max", "50000 100000")  # half a core
    write(
        root / "app" / "server" / "memory.stat", f"anon {250 * MB}\nfile {50 * MB}\ninactive_file {20 * MB}"
    )
    limits = read_limits(root, proc)
    assert limits.memory_bytes == 2 * GB and limits.memory_source == "cgroup v2 memory.max"
    assert limits.cpus == 0.5 and limits.cpu_source == "cgroup v2 cpu.max"
    assert limits.used_bytes == 300 * MB
    # room for a new process: 2048 MB less the working set (300 used - 20 inactive file cache)
    assert limits.spare_mb == 2048 - 300 + 20


def test_cgroup_v1_limits_and_no_limit_written_as_a_huge_number(tmp_path):
    root, proc = tmp_path / "cgroup", tmp_path / "self-cgroup"
    write(proc, "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/")
    write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712")  # no limit at the top
    write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", str(GB))
    write(root / "memory" / "docker" / "abc" / "memory.usage_in_bytes", str(500 * MB))
    write(  # v1 counts the group with its children as total_*: that one is read
        root / "memory" / "docker" / "abc" / "memory.stat",
        f"cache {10 * MB}\ninactive_file {5 * MB}\ntotal_cache {80 * MB}\ntotal_inactive_file {60 * MB}",
    )
    write(root / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "100000")
    write(root / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_period_us", "100000")
    limits = read_limits(root, proc)
    assert (limits.memory_bytes, limits.memory_source) == (GB, "cgroup v1 memory.limit_in_bytes")
    assert (limits.cpus, limits.cpu_source) == (1.0, "cgroup v1 cpu.cfs_quota_us")
    assert limits.used_bytes == 500 * MB
    assert limits.spare_mb == 1024 - 500 + 60


def test_without_groups_the_machine_counts(tmp_path):
    limits = read_limits(tmp_path / "nothing", tmp_path / "no-file")
    assert limits.memory_source == "the machine" and limits.cpu_source == "the machine"
    assert limits.memory_bytes > 0 and limits.cpus >= 1 and limits.used_bytes is None
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    # without a limit, a new process may use what the machine has available
    available = next(int(line.split()[1]) / 1024 for line in meminfo if line.startswith("MemAvailable:"))
    assert abs(limits.spare_mb - available) < 256  # (read a moment apart)


@pytest.mark.parametrize(
    ("live", "starting", "leaving", "wanted", "spare_mb", "start"),
    [
        (0, 0, 0, 1, 0.0, True),  # the first process always starts: the pages need their answers
        (0, 0, 0, 2, 0.0, True),
        (0, 1, 0, 2, 5000.0, False),  # one at a time: the first is still importing TensorFlow
        (1, 0, 0, 2, WORKER_MB + HEADROOM_MB, True),  # exactly room for one more with headroom
        (1, 0, 0, 2, WORKER_MB + HEADROOM_MB - 1, False),  # 1 MB short: the line waits
        (0, 0, 1, 1, 100.0, False),  # a retired process still holds its memory: wait for it to exit
        (0, 0, 1, 1, WORKER_MB + HEADROOM_MB, True),  # ... unless there is room for both
        (2, 0, 0, 2, 5000.0, False),  # all there
        (1, 0, 0, 1, 5000.0, False),
    ],
)
def test_a_process_starts_only_when_it_fits(live, starting, leaving, wanted, spare_mb, start):
    assert may_start(live, starting, leaving, wanted, spare_mb, WORKER_MB) is start


def limits(memory_mb: float, cpus: float) -> Limits:
    return Limits(int(memory_mb * MB), "cgroup v2 memory.max", cpus, "cgroup v2 cpu.max", None)


@pytest.mark.parametrize(
    ("memory_mb", "cpus", "workers"),
    [
        # Community Cloud's largest: (2764 - 400 - 100) / 500 = 4.5 by memory, 2 by cores
        (2764, 2, 2),
        # 2 GB: (2048 - 500) / 500 = 3.1 by memory, 2 by cores
        (2048, 2, 2),
        # 1 GB, 1 core: (1024 - 500) / 500 = 1.05: one training (the web server imports no TensorFlow)
        (1024, 1, 1),
        # 1.5 GB, 2 cores: (1536 - 500) / 500 = 2.07
        (1536, 2, 2),
        # the smallest: 690 MB and 0.078 cores: (690 - 500) / 500 = 0.38, none; one process answers
        (690, 0.078, 0),
        # a laptop: 16 GB, 8 cores: the cores decide
        (16384, 8, 8),
    ],
)
def test_the_plan_for_each_size(memory_mb, cpus, workers):
    plan = plan_workers(limits(memory_mb, cpus))
    assert plan.workers == workers
    assert plan.workers == min(
        max(1, int(cpus)), max(0, int((memory_mb - SERVER_MB - HEADROOM_MB) // WORKER_MB))
    )
    if workers == 0:
        assert (
            plan.reason.startswith(f"This server has {memory_mb:,.0f} MB of memory")
            and "cannot train" in plan.reason
        )
    else:
        assert plan.reason.startswith(f"{workers} training")


@pytest.mark.parametrize(
    ("memory_mb", "cpus", "mark"),
    [
        (2764, 2, 1000.0),  # (2764 - 400 - 100) / 2 = 1132: the cap
        (1536, 2, 600.0),  # (1536 - 500) / 2 = 518, less than 500 + 100
        (1024, 1, 600.0),  # 524, less than 500 + 100
        (2048, 1, 1000.0),  # 1548: the cap
        (690, 0.078, 600.0),  # no trainings; the one process still gets its planned size + 100
    ],
)
def test_a_processs_memory_mark_is_its_share_of_the_container(memory_mb, cpus, mark):
    assert plan_workers(limits(memory_mb, cpus)).memory_mark_mb == pytest.approx(mark)


@pytest.mark.parametrize(
    ("allowed", "processes", "threads", "cpus", "pinned"),
    [
        ({0, 1}, 2, 1, 2.0, (0, 1)),  # a 2-core machine or a container with two cores of its own
        ({2, 5}, 2, 1, 2.0, (2, 5)),  # its own two cores, whichever they are
        ({0, 1, 2, 3}, 2, 1, 2.0, ()),  # a quota on a larger machine, or a laptop: the scheduler places them
        ({0, 1}, 1, 1, 1.0, ()),  # one process (a 1-core quota): nothing to keep apart
        ({0, 1}, 2, 1, 1.5, ()),  # a quota below its cores: they are not all its own
        ({0, 1, 2, 3}, 2, 2, 4.0, ()),  # two threads each
    ],
)
def test_training_processes_are_kept_one_a_core_only_where_the_cores_are_theirs(
    monkeypatch, allowed, processes, threads, cpus, pinned
):
    from siamese_core.serving import container

    monkeypatch.setattr(container.os, "sched_getaffinity", lambda _pid: allowed)
    monkeypatch.setattr(container, "_CORES_AT_START", None)  # read them again, from the line above
    assert container.cores_to_pin(processes, threads, cpus) == pinned


def test_the_cores_are_those_the_process_had_first(monkeypatch):
    """The web server keeps itself to one core once its pool is made: a pool made again later (new
    code under a running server) still plans from the cores the server started with."""
    from siamese_core.serving import container

    monkeypatch.setattr(container, "_CORES_AT_START", None)
    monkeypatch.setattr(container.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert container.cores_to_pin(2, 1, 2.0) == (0, 1) and container._machine_cpus() == 2.0
    monkeypatch.setattr(container.os, "sched_getaffinity", lambda _pid: {1})  # the server, kept to core 1
    assert container.cores_to_pin(2, 1, 2.0) == (0, 1) and container._machine_cpus() == 2.0


def test_a_new_process_takes_the_core_the_others_leave():
    from siamese_core.serving.container import core_for

    assert core_for((), [None]) is None
    assert core_for((0, 1), []) == 0
    assert core_for((0, 1), [0]) == 1
    assert core_for((0, 1), [1]) == 0  # a replacement takes its predecessor's core
    assert core_for((0, 1), [0, 1]) == 0  # all taken (a process retiring): the first, shared a while


def _cores_of(pid: int) -> set[str]:
    """The cores each thread of a process may run on (Cpus_allowed_list of every task)."""
    lists = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        lists.add(
            next(line.split()[1] for line in status.splitlines() if line.startswith("Cpus_allowed_list"))
        )
    return lists


def test_a_pool_on_two_cores_of_its_own_keeps_each_training_process_on_one(monkeypatch):
    """Real processes, forked from the template: every thread of each is on its own core (threads
    TensorFlow started after the fork too), and a killed process's replacement takes its core."""
    import os
    import signal
    import time

    from siamese_core.serving import pool as pool_module
    from siamese_core.serving.pool import WorkerPool
    from siamese_core.serving.protocol import ModelFacts, ModelRef
    from siamese_core.serving.registry import PRETRAINED
    from siamese_core.tasks import ModelCall

    cores = tuple(sorted(os.sched_getaffinity(0))[:2])
    if len(cores) < 2:
        pytest.skip("one core here: nothing to pin to two")
    monkeypatch.setattr(pool_module, "cores_to_pin", lambda processes, threads, cpus: cores)
    pool = WorkerPool(2, warm_up=False, threads_per_worker=1)
    try:
        deadline = time.monotonic() + 120
        while len([w for w in pool._workers if w.ready.is_set()]) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(w.ready.is_set() for w in pool._workers) and len(pool._workers) == 2
        pretrained = ModelRef(PRETRAINED, ModelFacts(0, "", 0))
        pool.call(ModelCall.FACTS.value, dict(model=pretrained))  # TensorFlow's threads have started
        assert sorted(w.core for w in pool._workers) == list(cores)
        for worker in pool._workers:
            assert _cores_of(worker.pid) == {str(worker.core)}
        gone = next(w for w in pool._workers if w.core == cores[1])
        os.kill(gone.pid, signal.SIGKILL)
        fresh = []
        while not fresh and time.monotonic() < deadline:
            fresh = [w for w in pool._workers if w is not gone and w.core == cores[1] and w.ready.is_set()]
            time.sleep(0.2)
        assert fresh and _cores_of(fresh[0].pid) == {str(cores[1])}
    finally:
        pool.shutdown()
