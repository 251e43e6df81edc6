"""Time to 97.2% test pair accuracy, seconds per epoch, final accuracy and peak RSS, for the
seed's Keras example (reference) and the project's presets, each in its own process.

    mkdir -p ~/.keras/datasets && cp ../shared/data/mnist.npz ~/.keras/datasets/
    python benchmarks/bench_training.py                  # all four, prints a Markdown table
    python benchmarks/bench_training.py --only cnn --json

Test accuracy is measured after every epoch on the example's test pairs (seed 003's
create_pairs on the 10,000 MNIST test digits), with evaluation time excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 0.972
RUNS = {
    "reference": "seed 003 re-implemented (float pairs, Lambda)",
    "keras-example": "preset keras-example (index pairs, uint8)",
    "fast-mlp": "preset fast-mlp (fastest to 97.2%)",
    "cnn": "preset cnn",
}


def _one(name: str, epochs: int | None, overrides: dict | None = None) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    curve = []

    def log(epoch, seconds, acc):
        curve.append((epoch, seconds, acc))
        print(f"  {name} epoch {epoch}: {seconds:.1f}s acc {acc:.4f}", file=sys.stderr, flush=True)

    if name == "reference":
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from reference_keras_example import run

        run(epochs=epochs or 20, on_epoch=log)
        device = "CPU"
    else:
        import numpy as np

        from siamese_core.config import PRESETS, SiameseConfig
        from siamese_core.data import keras_example_pairs, load_dataset
        from siamese_core.evaluation import pair_scores
        from siamese_core.training import TrainingJob

        # --set values are parsed like the app's shareable links
        config, notes = SiameseConfig.from_query(overrides or {}, PRESETS[name].replace(dataset="mnist"))
        unknown = set(overrides or {}) - set(SiameseConfig.__dataclass_fields__)
        if notes or unknown:
            raise SystemExit(f"bad --set: {notes or sorted(unknown)}")
        if epochs:
            config = config.replace(epochs=epochs)
        ds = load_dataset("mnist", config.seed, config.held_out_classes)
        test_pairs = keras_example_pairs(ds.test.y, np.random.default_rng(0))
        box = {}

        def on_event(e):
            if e["kind"] == "epoch":
                job = box["job"]
                s = pair_scores(job.model, ds.test.x, test_pairs.i, test_pairs.j)
                acc = float(np.mean((s < e["threshold"]) == (test_pairs.label[:, 0] == 1)))
                log(e["epoch"], e["seconds"], acc)

        job = TrainingJob(config, ds, on_event=on_event, test_protocol="keras-example")
        box["job"] = job
        job.run()
        device = job.device
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reached = next((s for _, s, a in curve if a >= TARGET), None)
    return {
        "name": name,
        "what": RUNS[name],
        "epochs": len(curve),
        "seconds_per_epoch": curve[-1][1] / len(curve),
        "train_seconds": curve[-1][1],
        "final_accuracy": curve[-1][2],
        "best_accuracy": max(a for _, _, a in curve),
        "seconds_to_target": reached,
        "peak_rss_mb": peak_mb,
        "device": device,
        "curve": curve,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=list(RUNS))
    ap.add_argument("--epochs", type=int, help="override every run's epoch count")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override a preset's config field (not the reference), e.g. jit_compile=true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    overrides = dict(kv.split("=", 1) for kv in args.set)
    if args.child:
        print(json.dumps(_one(args.child, args.epochs, overrides)))
        return
    results = []
    for name in [args.only] if args.only else list(RUNS):
        cmd = [sys.executable, __file__, "--child", name] + (["--epochs", str(args.epochs)] if args.epochs else [])
        cmd += [a for kv in args.set for a in ("--set", kv)]
        t0 = time.time()
        out = subprocess.run(cmd, capture_output=False, stdout=subprocess.PIPE, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["wall_seconds"] = time.time() - t0
        results.append(r)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    ref = next((r for r in results if r["name"] == "reference"), None)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {results[0]['device']}\n")
    print("| run | epochs | s/epoch | time to 97.2% | final acc | best acc | peak RSS | time ratio | RSS ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        t = r["seconds_to_target"]
        tr = f"{t / ref['seconds_to_target']:.2f}" if ref and t and ref["seconds_to_target"] else "-"
        mr = f"{r['peak_rss_mb'] / ref['peak_rss_mb']:.2f}" if ref else "-"
        print(
            f"| {r['what']} | {r['epochs']} | {r['seconds_per_epoch']:.2f} | "
            f"{f'{t:.1f} s' if t else 'not reached'} | {100 * r['final_accuracy']:.2f}% | "
            f"{100 * r['best_accuracy']:.2f}% | {r['peak_rss_mb']:.0f} MB | {tr} | {mr} |"
        )


if __name__ == "__main__":
    main()
