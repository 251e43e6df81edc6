"""The worker process: ``python -m siamese_core.serving.worker FD THREADS WARM_UP``, started by
the pool. It imports TensorFlow once, then runs one job at a time (a training or a lesson's task)
and reports its progress as syncs, its end as a payload."""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from siamese_core.jobs import STOPPED_BY_USER, Status, Stopped
from siamese_core.serving.memory import pss_mb
from siamese_core.serving.protocol import ABANDONED, DatasetRef, ModelBytes, decode, encode


# ---- the worker process ----------------------------------------------------------------------------------------
class _WorkerSide:
    """State of one worker process: the job it runs and the controls that reach it."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.send_lock = threading.Lock()
        self.inbox: queue.Queue = queue.Queue()
        self.jobs: dict[int, Any] = {}  # id -> TrainingJob or a task's stop flag
        self.stop_reasons: dict[int, str] = {}  # a stopped task's reason, until its payload carries it
        self.datasets: dict[DatasetRef, Any] = {}

    def send(self, message: tuple) -> None:
        with self.send_lock:
            self.conn.send(message)

    def dataset(self, ref: DatasetRef):
        if ref not in self.datasets:
            from siamese_core.network.data import load_dataset

            while len(self.datasets) >= 2:  # full MNIST is ~55 MB a split: keep two at most
                self.datasets.pop(next(iter(self.datasets)))
            self.datasets[ref] = load_dataset(ref.name, ref.seed, ref.held_out, val_size=ref.val_size)
        return self.datasets[ref]

    def listen(self) -> None:
        """The reader thread: controls act at once on the running job; jobs go to the inbox."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: nothing to train for
            if message[0] == "control":
                self.apply(*message[1:])
            elif message[0] == "train":
                from siamese_core.network.training import TrainingJob

                _, job_id, config, options = message
                self.jobs[job_id] = TrainingJob(
                    config,
                    None,
                    max_batches=options["max_batches"],
                    probe_per_class=options["probe_per_class"],
                    test_protocol=options["test_protocol"],
                )
                self.inbox.put(message)
            elif message[0] == "task":
                self.jobs[message[1]] = threading.Event()
                self.inbox.put(message)
            else:
                self.inbox.put(message)

    def apply(self, job_id: int, action: str, argument: Any) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        if isinstance(job, threading.Event):  # a task: only stop
            if action in ("stop", "abandon"):
                reason = ABANDONED if action == "abandon" else argument or STOPPED_BY_USER
                self.stop_reasons.setdefault(job_id, reason)  # the first stop's reason, as on the server
                job.set()
            return
        if action == "abandon":
            from siamese_core.network.training import ABANDONED as reason

            job._set(reason=reason)
            job.stop()
        elif action == "stop":
            if not job.reason:  # the first stop's reason, as on the server
                job._set(reason=argument or STOPPED_BY_USER)
            job.stop()
        elif action == "step":
            job.step(int(argument or 1))
        elif action in ("pause", "resume"):
            getattr(job, action)()

    def run_training(self, job_id: int, options: dict) -> None:
        job = self.jobs[job_id]
        job.dataset = self.dataset(options["dataset"])
        sent = {"batches": 0, "epochs": 0, "probes": 0, "index": False}
        sync_lock = threading.Lock()

        def sync(_event=None) -> None:
            with sync_lock, job._lock:
                state = {
                    "status": str(job.status),
                    "reason": job.reason,
                    "device": job.device,
                    "steps_per_epoch": job.steps_per_epoch,
                    "global_step": job.global_step,
                    "threshold": job.threshold,
                    "elapsed": job._elapsed(),
                    "clock_running": bool(job._fit_started),
                    "batches": job.batches[sent["batches"] :],
                    "epochs": job.epochs[sent["epochs"] :],
                    "probes": job.probe_snapshots[sent["probes"] :],
                    "probe_index": None if sent["index"] else job.probe_index,
                }
                sent.update(
                    batches=len(job.batches),
                    epochs=len(job.epochs),
                    probes=len(job.probe_snapshots),
                    index=job.probe_index is not None,
                )
                self.send(("sync", job_id, state))

        job.on_event = sync
        job.run()
        sync()
        payload = {
            "status": str(job.status),
            "reason": job.reason,
            "result": job.result,
            "report": job.report,
            "model": None,
        }
        if job.model is not None and job.result is not None:
            from siamese_core.network.persistence import model_bytes

            payload["model"] = ModelBytes(model_bytes(job.model, job.config))
        job.model = job.on_event = job.report = None
        self.finish(job_id, payload)

    def run_task(self, job_id: int, target: str, kwargs: dict) -> None:
        stop = self.jobs[job_id]
        last = [0.0]

        def report(fraction: float, message: str, state: Any = None) -> None:
            """A task's progress; ``state`` (optional, small) is what its page draws live."""
            if stop.is_set():
                raise Stopped()
            now = time.monotonic()
            if now - last[0] >= 0.2:
                last[0] = now
                progress = {"progress": min(max(fraction, 0.0), 1.0), "message": message}
                self.send(("sync", job_id, progress if state is None else {**progress, "state": state}))

        try:
            module, _, name = target.partition(":")
            fn = getattr(importlib.import_module(module), name)
            result = fn(report, **decode(kwargs, self.dataset))
            payload = {"status": str(Status.FINISHED), "result": encode(result)}
        except Stopped:
            payload = {
                "status": str(Status.STOPPED),
                "reason": self.stop_reasons.get(job_id) or STOPPED_BY_USER,
            }
        except Exception as exc:
            payload = {"status": str(Status.FAILED), "error": f"{type(exc).__name__}: {exc}"}
        self.finish(job_id, payload)

    def finish(self, job_id: int, payload: dict) -> None:
        from siamese_core.serving.memory import release_free_memory

        self.jobs.pop(job_id, None)
        self.stop_reasons.pop(job_id, None)
        release_free_memory()
        payload["pss_mb"] = pss_mb()
        self.send(("done", job_id, payload))


def _warm_up() -> None:
    """Build and fit a tiny model once, so a student's first training skips Keras's first-time
    costs (about a second)."""
    import tensorflow as tf

    from siamese_core.config import SiameseConfig
    from siamese_core.network.data import Pairs
    from siamese_core.network.models import build_siamese
    from siamese_core.network.training import compile_model, pair_dataset

    config = SiameseConfig(epochs=1, batch_size=8)
    model = build_siamese(config)
    compile_model(model, config)
    images = tf.constant(np.zeros((16, 28, 28), np.uint8))
    index = np.arange(16, dtype=np.int64)
    pairs = Pairs(index, index[::-1].copy(), np.ones((16, 1), np.float32))
    model.fit(pair_dataset(images, pairs, 8), epochs=1, verbose=0, shuffle=False)


def worker_main(fd: int, threads: int, warm_up: bool) -> None:
    from siamese_core.serving.memory import limit_malloc_arenas

    limit_malloc_arenas()
    side = _WorkerSide(Connection(fd))
    from siamese_core.network._keras import keras

    # Keras first, through _keras (without its scikit-learn and pandas bridges: -120 MB per
    # worker); a plain ``import tensorflow`` first would load them. This statement keeps the two
    # imports apart (an import sorter would swap them).
    del keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing warnings: each job builds its own model
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):  # workers share a GPU: take memory as needed
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.experimental.set_memory_growth(gpu, True)
    from siamese_core.network import training  # noqa: F401  (Keras and the job, imported once)

    # Listen only now: an import in the listener while this thread imports TensorFlow
    # deadlocks on the module locks. Messages sent meanwhile wait in the socket.
    threading.Thread(target=side.listen, name="siamese-worker-listen", daemon=True).start()

    if warm_up:
        with contextlib.suppress(Exception):  # a warm-up is an optimisation only
            _warm_up()
    side.send(("ready", os.getpid()))
    while True:
        message = side.inbox.get()
        if message[0] == "exit":
            break
        if message[0] == "train":
            side.run_training(message[1], message[3])
        elif message[0] == "task":
            side.run_task(message[1], message[2], message[3])
    side.conn.close()


if __name__ == "__main__":  # pickled classes must be siamese_core.serving.worker's, not __main__'s
    from siamese_core.serving.worker import worker_main

    worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1")
