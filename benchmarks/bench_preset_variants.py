"""Variants of the classroom preset: test pair accuracy and training seconds over several seeds,
each run in its own process pinned to one core with TensorFlow on one thread (like one of the
app's workers), through the project's own ``TrainingJob``.

    mkdir -p ~/.keras/datasets && cp ../shared/data/mnist.npz ~/.keras/datasets/
    python benchmarks/bench_preset_variants.py '{}' '{"pairs_per_epoch": 10000, "margin": 0.7}'
    python benchmarks/bench_preset_variants.py --data mnist-5k --seeds 5 --cores 0,1 '{}' '{"margin": 0.8}'

Each argument is a JSON object of ``SiameseConfig`` fields replaced in the classroom preset (``{}``
is the preset as it is). With ``--cores 0,1`` two variants run at once, one per core (on this
2-core machine the two did not slow each other: 4.46 and 4.45 s of CPU for the same run). Training
seconds are ``fit`` only (the job's own clock). One thread gives other figures than the command
line's default threads (``python -m siamese_core train``): TensorFlow adds in another order.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import json, sys, time
sys.path.insert(0, {root!r})
import siamese_core.network._keras
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
from siamese_core.config import PRESETS
from siamese_core.network.training import TrainingJob
config = PRESETS["classroom"].replace(dataset={dataset!r}, seed={seed}, **{fields!r})
cpu = time.process_time()
result = TrainingJob(config).run()
print(json.dumps({{"acc": result.test_pair_accuracy, "train_s": result.train_seconds,
    "cpu_s": time.process_time() - cpu}}))
"""


def variant(fields: dict, dataset: str, seeds: int, core: int) -> dict:
    rows = []
    for seed in range(seeds):
        code = RUN.format(root=str(ROOT), dataset=dataset, seed=seed, fields=fields)
        out = subprocess.run(
            ["taskset", "-c", str(core), sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            check=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    accuracy = [r["acc"] for r in rows]
    return {
        "fields": fields,
        "data": dataset,
        "accuracy": accuracy,
        "mean_accuracy": sum(accuracy) / len(accuracy),
        "train_s": [r["train_s"] for r in rows],
        "cpu_s": [round(r["cpu_s"], 2) for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="JSON objects of fields replaced in the classroom preset")
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1")
    parser.add_argument("--cores", default="0", help="comma-separated: one variant at a time on each")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    variants = [json.loads(v) for v in args.variants]
    free: queue.Queue[int] = queue.Queue()
    cores = [int(c) for c in args.cores.split(",")]
    for core in cores:
        free.put(core)

    def on_a_free_core(fields: dict) -> dict:
        core = free.get()  # never two runs on one core
        try:
            return variant(fields, args.data, args.seeds, core)
        finally:
            free.put(core)

    with ThreadPoolExecutor(len(cores)) as pool:
        results = list(pool.map(on_a_free_core, variants))
    print("| fields replaced | test pair accuracy, seeds 0.. | mean | training (s) |")
    print("|---|---|---|---|")
    for r in results:
        accuracy = ", ".join(f"{100 * a:.2f}" for a in r["accuracy"])
        seconds = f"{min(r['train_s']):.2f}–{max(r['train_s']):.2f}"
        print(
            f"| {json.dumps(r['fields']) or '{}'} | {accuracy} | {100 * r['mean_accuracy']:.2f}% | {seconds} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
