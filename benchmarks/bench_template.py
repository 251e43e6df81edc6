"""Model processes forked from the template process against processes started from nothing.

    python benchmarks/bench_template.py [--json PATH]

For 1 and 2 processes, each way: a fresh ``WorkerPool`` (with the trainings' warm-up, as the app
starts it), the time until every process is ready, then, 8 s later (the warm-ups done), the
memory of the model service: the sum of the PSS of the template and the model processes (PSS
counts a page shared by several of them once in the sum). Then the time a retired process's
replacement takes to be ready (one job, ``max_jobs=1``), the gap a lone process of a small
container leaves the pages without an answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import psutil  # noqa: E402

from siamese_core.serving.memory import pss_mb  # noqa: E402
from siamese_core.serving.mirrors import RemoteTask  # noqa: E402
from siamese_core.serving.pool import WorkerPool  # noqa: E402

TIMEOUT = 300


def service_mb() -> float:
    return sum(pss_mb(p.pid) for p in psutil.Process().children(recursive=True))


def measure(size: int, fork: bool) -> dict:
    started = time.perf_counter()
    pool = WorkerPool(size, fork=fork)
    try:
        while len(pool.pids()) < size or pool.stats().starting:
            time.sleep(0.05)
        ready = time.perf_counter() - started
        time.sleep(8)
        memory = service_mb()
    finally:
        pool.shutdown()
    # a replacement: one process, retired after its one job; the next call waits for the new one
    pool = WorkerPool(1, max_jobs=1, warm_up=False, fork=fork)
    try:
        pool.device(TIMEOUT)
        job = RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 0.1})
        pool.submit(job)
        job.join(TIMEOUT)
        asked = time.perf_counter()
        pool.call("tests.worker_jobs:hold", {"mb": 1}, timeout=TIMEOUT)
        replacement = time.perf_counter() - asked
    finally:
        pool.shutdown()
    return {
        "ready_s": round(ready, 2),
        "service_pss_mb": round(memory),
        "replacement_s": round(replacement, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {}
    print(
        "| processes | started | all ready (s) | model service PSS (MB) | a replacement answers after (s) |"
    )
    print("|---|---|---|---|---|")
    for size in (1, 2):
        for fork in (False, True):
            key = f"{size} {'forked from the template' if fork else 'from nothing'}"
            results[key] = measure(size, fork)
            r = results[key]
            print(f"| {size} | {key[2:]} | {r['ready_s']} | {r['service_pss_mb']} | {r['replacement_s']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
