"""The template process (siamese_core/serving/template.py): model processes forked from one process
that imported TensorFlow once; what happens when the template dies or cannot start; and the way
back to processes started from nothing (macOS, Windows, SIAMESE_LAB_FORK_WORKERS=0)."""

import os
import signal
import sys
import time

import psutil
import pytest

from siamese_core.jobs import Status
from siamese_core.serving import template
from siamese_core.serving.memory import pss_mb
from siamese_core.serving.mirrors import RemoteTask
from siamese_core.serving.pool import WorkerPool
from tests.helpers import running

TIMEOUT = 120


pytestmark = pytest.mark.skipif(not template.available(), reason="model processes are forked on Linux only")


def nap(seconds=0.1):
    return RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": seconds})


def ran_in(pool: WorkerPool) -> int:
    """A short job submitted and done: the pid of the process that ran it."""
    job = nap()
    pool.submit(job)
    assert job.join(TIMEOUT) and job.snapshot().status == Status.FINISHED, job.snapshot()
    return job.snapshot().result["pid"]


def test_model_processes_are_forked_from_the_template_and_outlive_it():
    pool = WorkerPool(1, max_jobs=1, warm_up=False, fork=True)  # a new process after every job
    try:
        pool.device(TIMEOUT)
        keeper = pool._template._process.pid
        (first,) = pool.pids()
        assert psutil.Process(first).ppid() == keeper  # forked by the template, not started by the pool
        with open(f"/proc/{keeper}/oom_score_adj") as f:
            assert f.read().strip() == "1000"  # restartable: the kernel's first choice, as the workers
        assert ran_in(pool) == first  # then it retires (one job each)
        # the Teacher page's memory figure counts the template's share (PSS) with the workers'
        stats = pool.stats(memory=True)
        # (its PSS moves as forks come and go: a share, not a fixed size; a live template holds
        # TensorFlow's imports, ~180-300 MB here)
        assert stats.template_mb > 50 and pss_mb(keeper) > 50
        assert pool.stats().template_mb == 0.0  # read from /proc only when asked

        def answering() -> int:
            return pool.call("tests.worker_jobs:hold", {"mb": 1}, timeout=60)

        second = answering()  # its replacement, forked too
        assert second != first and psutil.Process(second).ppid() == keeper
        assert not running(first)

        # the template killed (by the kernel, say): the process it forked goes on answering ...
        os.kill(keeper, signal.SIGKILL)
        assert answering() == second
        # ... and running jobs; it retires after its job (its end seen without the template), and
        # the next process comes from a new template
        assert ran_in(pool) == second
        third = answering()
        assert third != second and pool._template._process.pid != keeper
        assert psutil.Process(third).ppid() == pool._template._process.pid
        assert pool.stats().crashed == 0  # no job failed on the way
    finally:
        pool.shutdown()
    end = time.monotonic() + 30  # the shutdown ends the template too
    while pool._template._process.poll() is None:
        assert time.monotonic() < end, "the template outlived its pool"
        time.sleep(0.1)


def test_a_template_that_cannot_start_fails_its_forks_then_is_given_up(monkeypatch):
    """Its forks end with its exit code (the pool's sentence for a crashed process); after two
    templates in a row end before they are ready, the pool starts processes from nothing."""
    import socket

    monkeypatch.setattr(template.ProcessTemplate, "command", ("-c", "import sys; sys.exit(3)"))
    keeper = template.ProcessTemplate()
    for attempt in (1, 2):
        ours, theirs = socket.socketpair()
        process = keeper.fork(theirs, 1, False)
        assert process.wait(60) == 3
        assert ours.recv(1) == b""  # the socket the process would have used is closed: no one waits on it
        assert keeper.failures == attempt
    assert not keeper.usable


def test_a_lone_process_starts_from_nothing():
    """One process alone is smaller started from nothing than a template and its fork (measured
    at 690 MB: the template's ~40 MB took the container over its limit); the way every process
    starts on macOS and Windows, and with SIAMESE_LAB_FORK_WORKERS=0."""
    pool = WorkerPool(1, warm_up=False)  # the plan of a small container: one process
    try:
        pool.device(TIMEOUT)
        (pid,) = pool.pids()
        process = psutil.Process(pid)
        assert process.ppid() == os.getpid()
        assert process.cmdline()[1:3] == ["-m", "siamese_core.serving.worker"]
        assert pool._template is None
        assert ran_in(pool) == pid
    finally:
        pool.shutdown()


def test_the_template_is_linux_only_and_can_be_turned_off(monkeypatch):
    monkeypatch.delenv("SIAMESE_LAB_FORK_WORKERS", raising=False)
    assert template.available() == (sys.platform == "linux")
    monkeypatch.setenv("SIAMESE_LAB_FORK_WORKERS", "0")
    assert not template.available()
    monkeypatch.delenv("SIAMESE_LAB_FORK_WORKERS")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not template.available()
