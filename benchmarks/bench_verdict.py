"""Compare's verdict from the model service: its latency on an idle service and while trainings run.

    python benchmarks/bench_verdict.py [--trainings 2] [--calls 200] [--json PATH]

A real ``WorkerPool`` (the model service the app starts; ``--trainings`` worker processes). The
verdict is what Compare asks for every pair of digits: ``ModelCall.COMPARE`` on the pretrained
model's handle, two test digits in, one ``Verdict`` out, timed in the web server's process from the
call to the answer (pickling both ways included). First on the idle service, then while every
worker trains the classroom preset on the embedded digits (the trainings are resubmitted as they
end, so they run the whole time). Prints p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import siamese_core  # noqa: E402,F401
from siamese_core.config import PRESETS  # noqa: E402
from siamese_core.network.data import embedded_digits, load_dataset  # noqa: E402
from siamese_core.serving.mirrors import RemoteTrainingJob  # noqa: E402
from siamese_core.serving.pool import WorkerPool  # noqa: E402
from siamese_core.serving.protocol import ModelFacts, ModelRef  # noqa: E402
from siamese_core.serving.registry import PRETRAINED  # noqa: E402
from siamese_core.tasks import ModelCall  # noqa: E402

MODEL = ModelRef(PRETRAINED, ModelFacts(0, "", 0))


def timed_calls(pool: WorkerPool, n: int, digits: np.ndarray) -> list[float]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        i, j = rng.integers(0, len(digits), 2)
        started = time.perf_counter()
        pool.call(ModelCall.COMPARE.value, dict(model=MODEL, a=digits[i], b=digits[j], threshold=0.5))
        out.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
    return out


def summary(ms: list[float]) -> dict:
    return {
        "calls": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(np.max(ms)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    digits, _labels = embedded_digits()
    pool = WorkerPool(args.trainings)
    try:
        pool.device()  # started
        timed_calls(pool, 5, digits)  # the model loaded in the worker, its first trace done
        idle = summary(timed_calls(pool, args.calls, digits))
        config = PRESETS["classroom"].replace(dataset="mnist-5k")
        data = load_dataset("mnist-5k", 0, (), config.val_size)
        jobs = [RemoteTrainingJob(config, data) for _ in range(args.trainings)]
        for job in jobs:
            pool.submit(job)
        while not all(job.snapshot().step > 0 for job in jobs):
            time.sleep(0.2)
        busy_ms: list[float] = []
        finished = 0
        while len(busy_ms) < args.calls:
            busy_ms += timed_calls(pool, 10, digits)
            for k, job in enumerate(jobs):  # keep every worker training
                if job.snapshot().status.ended:
                    finished += 1
                    jobs[k] = RemoteTrainingJob(config, data)
                    pool.submit(jobs[k])
        busy = summary(busy_ms)
        busy["trainings_finished_meanwhile"] = finished
        result = {"trainings_at_once": args.trainings, "idle": idle, "while_training": busy}
        print(json.dumps(result, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
