"""Memory all day: 200 trainings through the app's training path, then 200 model uploads, and the
web server's memory after each.

    python benchmarks/bench_memory_day.py --trainings 200 --uploads 200 [--json out.json]

This process plays the web server exactly as the Train page and the upload box use the core: a
:class:`~siamese_core.serving.pool.WorkerPool` of 2 worker processes (the app's default), one
:class:`~siamese_core.serving.mirrors.RemoteTrainingJob` after another on the classroom preset (capped at
``--batches`` batches so that 200 fit in minutes; the worker, the queue, the live sync, the test
evaluation and the trained model coming back as a `.keras` file are all the real ones), each
model kept as the "session's" model until the next replaces it, as a student's session does;
then ``persistence.load_model_bytes`` on an exported model 200 times, each replacing the last.
Reported: this process's RSS after the first and the last of each, the workers' memory
(PSS, so TensorFlow's shared libraries count once), and how often workers were recycled.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainings", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--batches", type=int, default=24, help="batches per training (3 calls of 8)")
    parser.add_argument("--dataset", default="auto")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from siamese_core.config import PRESETS
    from siamese_core.network.data import load_dataset
    from siamese_core.network.persistence import load_model_bytes, model_bytes
    from siamese_core.serving.memory import limit_malloc_arenas, pss_mb, release_free_memory, rss_mb
    from siamese_core.serving.mirrors import RemoteTrainingJob
    from siamese_core.serving.pool import WorkerPool

    limit_malloc_arenas()  # as app.py does
    config = PRESETS["classroom"]
    data = load_dataset(args.dataset, config.seed, (), config.val_size)
    pool = WorkerPool(2)
    session_model = None
    rss, started = [], time.time()

    def settle() -> float:
        release_free_memory()
        return rss_mb()

    for n in range(args.trainings):
        job = RemoteTrainingJob(config, data, dataset_name=data.name, max_batches=args.batches)
        pool.submit(job)
        job.join()
        snapshot = job.snapshot()
        if job.model is None:
            raise SystemExit(f"training {n} ended {snapshot.status}: {snapshot.reason}")
        session_model = job.model  # the session keeps its latest model, the previous one goes
        del job
        rss.append(settle())
        if n % 20 == 0 or n == args.trainings - 1:
            workers = [round(pss_mb(pid)) for pid in pool.pids()]
            print(f"training {n + 1}: server RSS {rss[-1]:.0f} MB, workers PSS {workers} MB", flush=True)
    stats = pool.stats()
    exported = model_bytes(session_model, config, threshold=0.5)
    uploads = []
    for n in range(args.uploads):
        session_model, _meta = load_model_bytes(exported)
        uploads.append(settle())
        if n % 50 == 0 or n == args.uploads - 1:
            print(f"upload {n + 1}: server RSS {uploads[-1]:.0f} MB", flush=True)
    worker_pss = [round(pss_mb(pid)) for pid in pool.pids()]
    pool.shutdown()
    out = {
        "dataset": data.name,
        "trainings": args.trainings,
        "batches_per_training": args.batches,
        "server_rss_after_first_training_mb": round(rss[0], 1),
        "server_rss_after_last_training_mb": round(rss[-1], 1),
        "server_rss_max_during_trainings_mb": round(max(rss), 1),
        "uploads": args.uploads,
        "server_rss_after_first_upload_mb": round(uploads[0], 1) if uploads else None,
        "server_rss_after_last_upload_mb": round(uploads[-1], 1) if uploads else None,
        "worker_pss_at_end_mb": worker_pss,
        "workers_recycled": stats.recycled,
        "worker_crashes": stats.crashed,
        "minutes": round((time.time() - started) / 60, 1),
    }
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
