"""Trainings on a kept compiled model (``shells.ModelShells``) against a new model each time.

    mkdir -p ~/.keras/datasets && cp ../shared/data/mnist.npz ~/.keras/datasets/   # full MNIST offline
    python benchmarks/bench_shells.py [--json PATH]

Each way in its own process pinned to core 0 (``taskset -c 0``) with TensorFlow on one thread, like
a model process of a 1- or 2-core container, on full MNIST:

- **CPU**: the classroom preset, three seeds after one throwaway run (the worker's warm-up), CPU
  seconds of the whole run (training, validation, test report), and its test pair accuracy (the
  same seed gives the same accuracy either way: the shell is reset exactly);
- **memory**: sixteen short trainings of the classroom preset (2 epochs of 2,048 pairs), each model
  written to bytes as the worker does, then dropped; the process's PSS after each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import gc, json, sys, time
sys.path.insert(0, {root!r})
import siamese_core.network._keras
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
from siamese_core.config import PRESETS
from siamese_core.network.data import load_dataset
from siamese_core.network.persistence import model_bytes
from siamese_core.network.shells import ModelShells
from siamese_core.network.training import TrainingJob
from siamese_core.serving.memory import pss_mb, release_free_memory

preset = PRESETS["classroom"]
data = load_dataset(preset.dataset, 0, preset.held_out_classes, val_size=preset.val_size)
shells = ModelShells() if {shells!r} else None


def train(config, **kw):
    job = TrainingJob(config, data, shells=shells, **kw)
    started = time.process_time()
    job.run()
    cpu = time.process_time() - started
    model_bytes(job.model, job.config, threshold=job.threshold)
    if shells is not None:
        shells.give_back(job.config, job.shell)
    return job, cpu


train(preset.replace(seed=99), max_batches=3)  # the warm-up
runs = []
for seed in (0, 1, 2):
    job, cpu = train(preset.replace(seed=seed))
    runs.append({{"seed": seed, "cpu_s": round(cpu, 2), "accuracy": job.result.test_pair_accuracy}})
short = preset.replace(epochs=2, pairs_per_epoch=2048)
pss = []
for seed in range(16):
    job, _ = train(short.replace(seed=seed))
    del job
    gc.collect()
    release_free_memory()
    pss.append(round(pss_mb(), 1))
print(json.dumps({{"shells": {shells!r}, "runs": runs, "pss_mb": pss}}))
"""


def measure(shells: bool) -> dict:
    code = RUN.format(root=str(ROOT), shells=shells)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [measure(False), measure(True)]
    print(
        "| model per training | CPU s per classroom run (3 seeds) | test pair accuracy | PSS after 1 / 16 short runs (MB) |"
    )
    print("|---|---|---|---|")
    for row in rows:
        cpus = ", ".join(f"{r['cpu_s']:.2f}" for r in row["runs"])
        accs = ", ".join(f"{r['accuracy']:.4f}" for r in row["runs"])
        way = "kept shell, reset" if row["shells"] else "new model"
        print(f"| {way} | {cpus} | {accs} | {row['pss_mb'][0]:.0f} / {row['pss_mb'][-1]:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
