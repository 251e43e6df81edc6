"""The Weight-sharing lab's race on its default setup, through a real worker pool as the app runs
it: wall time from submit to result, and what each side measured.

    python benchmarks/bench_race.py [--data mnist|mnist-5k] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from siamese_core.config import PRESETS, SiameseConfig  # noqa: E402
from siamese_core.serving.mirrors import RemoteTask  # noqa: E402
from siamese_core.serving.pool import WorkerPool  # noqa: E402
from siamese_core.serving.protocol import DatasetRef  # noqa: E402
from siamese_core.tasks import Task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lab = SiameseConfig()  # the lab's default network: MLP branch, distance head, embedding 128
    config = PRESETS["classroom"].replace(branch=lab.branch, head=lab.head, embedding_dim=lab.embedding_dim)
    pool = WorkerPool(2)  # as on a 2-core server: one core per worker
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not all(w.ready.is_set() for w in pool._workers):
            time.sleep(0.2)
        rows = []
        for _ in range(args.repeat):
            task = RemoteTask("race", Task.RACE, {"config": config, "data": DatasetRef(args.data)})
            start = time.perf_counter()
            pool.submit(task)
            task.join()
            wall = time.perf_counter() - start
            snapshot = task.snapshot()
            assert snapshot.error == "", snapshot.error
            result = snapshot.result
            rows.append(
                {
                    "data": result.dataset,
                    "wall_s": round(wall, 2),
                    **{
                        f"{name}_{key}": round(value, 4)
                        for name, side in (("shared", result.shared), ("unshared", result.unshared))
                        for key, value in (
                            ("seconds", side.seconds),
                            ("accuracy", side.test_accuracy),
                            ("asymmetry_max", side.asymmetry_max),
                        )
                    },
                }
            )
            print(json.dumps(rows[-1]))
        out = Path(__file__).parent / "results" / f"race_{args.data}.json"
        out.write_text(json.dumps(rows, indent=2) + "\n")
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
