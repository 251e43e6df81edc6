"""A whole class at once: the classroom preset's cost on one core, and N simulated students
against a real `streamlit run app.py` server.

    mkdir -p ~/.keras/datasets && cp ../shared/data/mnist.npz ~/.keras/datasets/
    python benchmarks/bench_classroom.py --preset-only            # the preset, one core, 3 seeds
    python benchmarks/bench_classroom.py --students 10 20 30      # the load test (prints Markdown)
    python benchmarks/bench_classroom.py --alone 5                # 5 students, each training alone
    python benchmarks/bench_classroom.py --students 30 --memory-limit 1024 --cpus 1   # in a container (root)

**The preset** (``--preset-only``): each run in its own process pinned to core 0
(``taskset -c 0``) with TensorFlow on one thread, like one of the app's two workers: seconds of
training (the job's own clock: validation and the test report excluded), the whole run's wall
time, and the test pair accuracy, on full MNIST and on the embedded 5,000 digits.

**The load test**: the students are clients of Streamlit's own websocket protocol (the
protobuf ``BackMsg``/``ForwardMsg`` messages the browser exchanges with the server; see
``benchmarks/stclient.py``), each with its own session and cookie, against a real server started
with ``streamlit run app.py``. Each student opens Home, then Train (the classroom preset is the
default), presses Start, follows the run until the test report appears (driving the page's
one-second refresh the way the browser does), then opens Compare and asks for a verdict on two
test digits. Students arrive ``--stagger`` seconds apart, as a class does after "press Start now".
Recorded: the time from the first Start to the last training's end, every student's wait from
Start to their first curve point, page response times (first visit of each page; Compare's
verdict), split by whether any training was queued at the time, the peak memory of the server and
its workers together (PSS, sampled every 0.5 s: TensorFlow's shared libraries count once), and errors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PRESET_RUN = """
import json, sys, time
sys.path.insert(0, {root!r})
import siamese_core.network._keras
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
from siamese_core.config import PRESETS
from siamese_core.network.training import TrainingJob
config = PRESETS["classroom"].replace(dataset={dataset!r}, seed={seed})
start = time.perf_counter()
job = TrainingJob(config)
result = job.run()
print(json.dumps({{"acc": result.test_pair_accuracy, "train_s": result.train_seconds,
    "wall_s": time.perf_counter() - start, "dataset": result.dataset}}))
"""


def preset_runs(seeds=(0, 1, 2)) -> list[dict]:
    rows = []
    for dataset in ("mnist", "mnist-5k"):
        for seed in seeds:
            code = PRESET_RUN.format(root=str(ROOT), dataset=dataset, seed=seed)
            out = subprocess.run(
                ["taskset", "-c", "0", sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                check=True,
            ).stdout
            row = {"seed": seed, **json.loads(out.strip().splitlines()[-1])}
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    return rows


def preset_markdown(rows: list[dict]) -> str:
    lines = [
        "| data set | seed | training (s) | whole run (s) | test pair accuracy |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['seed']} | {r['train_s']:.2f} | {r['wall_s']:.1f} | {100 * r['acc']:.2f}% |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset-only", action="store_true")
    parser.add_argument("--students", type=int, nargs="*", default=[10, 20, 30])
    parser.add_argument("--stagger", type=float, default=1.0, help="seconds between students' arrivals")
    parser.add_argument(
        "--alone",
        type=int,
        default=0,
        help="instead: this many students, 20 s apart, so that each trains alone (Start to first curve point)",
    )
    parser.add_argument(
        "--memory-limit", type=float, default=None, help="MB: the server's process tree in a memory cgroup"
    )
    parser.add_argument("--cpus", type=float, default=None, help="cores: the same group's CPU quota")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.preset_only:
        rows = preset_runs()
        print(preset_markdown(rows))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    from classroom_load import load_markdown, load_test

    if args.alone:
        results = [load_test(args.alone, 20.0)]
    else:
        results = [load_test(n, args.stagger, args.memory_limit, args.cpus) for n in args.students]
    print(load_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
