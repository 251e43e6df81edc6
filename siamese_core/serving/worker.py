"""The worker process: ``python -m siamese_core.serving.worker FD THREADS WARM_UP``, started by
the pool: the model service. It imports TensorFlow once, then runs one job at a time (a training
or a lesson's task), reporting its progress as syncs and its end as a payload, and, on a thread of
its own next to that job, answers the pages' calls (a verdict, embeddings, an evaluation) on the
models it keeps by handle."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import queue
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from siamese_core.jobs import DATA_NOT_LOADED, STOPPED_BY_USER, Status, Stopped, SyncMark
from siamese_core.serving.memory import pss_mb
from siamese_core.serving.protocol import (
    ABANDONED,
    Action,
    Answer,
    Call,
    Control,
    DatasetRef,
    Done,
    Exit,
    ModelBytes,
    ModelRef,
    Ready,
    RunTask,
    Synced,
    TaskPayload,
    TaskProgress,
    Train,
    TrainingPayload,
    decode,
    encode,
    model_facts,
)

CALLS_DRAIN_SECONDS = 30.0  # a retired process answers its last calls for at most this long
MODELS_KEPT = 24  # Keras models a worker keeps loaded (least recently used out; the server has the bytes)


class _Missing(LookupError):
    """A handle this worker does not hold: the server sends its bytes again."""


class ModelStore:
    """The Keras models one worker holds, by handle (thread-safe: the job's thread and the calls'
    thread both read it)."""

    def __init__(self, size: int = MODELS_KEPT):
        from collections import OrderedDict

        self.size = size
        self._lock = threading.Lock()
        self._models: OrderedDict[str, Any] = OrderedDict()

    def load(self, models: dict[str, bytes]) -> None:
        from siamese_core.serving.protocol import load_keras

        for handle, data in models.items():
            model = load_keras(data)
            with self._lock:
                self._models[handle] = model
                self._models.move_to_end(handle)
                while len(self._models) > self.size:
                    self._models.popitem(last=False)

    def get(self, handle: str):
        with self._lock:
            if handle in self._models:
                self._models.move_to_end(handle)
                return self._models[handle]
        raise _Missing(handle)

    def missing(self, handles) -> tuple[str, ...]:
        with self._lock:
            return tuple(h for h in handles if h not in self._models)

    def resolve(self, value: ModelRef | ModelBytes):
        """A handle becomes the model it names; bytes are loaded."""
        if isinstance(value, ModelRef):
            return self.get(value.handle)
        from siamese_core.serving.protocol import load_keras

        return load_keras(value.data)


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
        self.datasets_lock = threading.Lock()  # the job's thread and the calls' thread load data sets
        self.models = ModelStore()
        self.shells = None  # the compiled models kept between trainings (ModelShells), once imported
        self.calls: queue.Queue = queue.Queue()  # the pages' calls, answered on their own thread

    def send(self, message: Ready | Synced | Done) -> None:
        with self.send_lock:
            self.conn.send(message)

    def dataset(self, ref: DatasetRef):
        with self.datasets_lock:
            if ref not in self.datasets:
                from siamese_core.network.data import load_dataset

                while len(self.datasets) >= 2:  # full MNIST is ~55 MB a split: keep two at most
                    self.datasets.pop(next(iter(self.datasets)))
                self.datasets[ref] = load_dataset(ref.name, ref.seed, ref.held_out, val_size=ref.val_size)
            return self.datasets[ref]

    def answer(self, message: Call) -> None:
        """One page's call: ``target(**kwargs)`` on the models named, answered at once."""
        from siamese_core.network.persistence import ModelProblem
        from siamese_core.network.preprocessing import ImageProblem

        try:
            self.models.load(message.models)
            from siamese_core.serving.protocol import model_refs

            missing = self.models.missing(model_refs(message.kwargs))
            if missing:
                self.send(Answer(message.call_id, missing=missing))
                return
            module, _, name = message.target.partition(":")
            fn = getattr(importlib.import_module(module), name)
            result = fn(**decode(message.kwargs, self.dataset, self.models.resolve))
            answer = Answer(message.call_id, result=encode(result))
        except (ModelProblem, ImageProblem) as exc:  # the student's file or picture: a sentence
            answer = Answer(message.call_id, error=str(exc), problem=exc)
        except _Missing as exc:
            answer = Answer(message.call_id, missing=(str(exc.args[0]),))
        except Exception as exc:
            answer = Answer(message.call_id, error=f"{type(exc).__name__}: {exc}")
        try:
            self.send(answer)
        except Exception as exc:  # a result that cannot be pickled: say so instead
            self.send(Answer(message.call_id, error=f"{type(exc).__name__}: {exc}"))

    def answer_calls(self) -> None:
        """The calls' thread: one call after another, next to the running job."""
        while True:
            message = self.calls.get()
            if message is None:
                return
            self.answer(message)

    def listen(self) -> None:
        """The reader thread: controls act at once on the running job; jobs go to the inbox."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: nothing to train for
            match message:
                case Control():
                    self.apply(message)
                case Train(job_id=job_id, config=config, options=options):
                    from siamese_core.network.training import TrainingJob

                    self.jobs[job_id] = TrainingJob(
                        config,
                        None,
                        max_batches=options.max_batches,
                        probe_per_class=options.probe_per_class,
                        test_protocol=options.test_protocol,
                        shells=self.shells,
                    )
                    self.inbox.put(message)
                case RunTask(job_id=job_id):
                    self.jobs[job_id] = threading.Event()
                    self.inbox.put(message)
                case Call():
                    self.calls.put(message)
                case _:
                    self.inbox.put(message)

    def apply(self, control: Control) -> None:
        job = self.jobs.get(control.job_id)
        if job is None:
            return
        action, argument = control.action, control.argument
        if isinstance(job, threading.Event):  # a task: only stop
            if action in (Action.STOP, Action.ABANDON):
                reason = ABANDONED if action == Action.ABANDON else argument or STOPPED_BY_USER
                self.stop_reasons.setdefault(
                    control.job_id, reason
                )  # the first stop's reason, as on the server
                job.set()
            return
        if action == Action.ABANDON:
            job.abandon()
        elif action == Action.STOP:
            job.stop(argument or STOPPED_BY_USER)  # the first stop's reason, as on the server
        elif action == Action.STEP:
            job.step(int(argument or 1))
        elif action == Action.PAUSE:
            job.pause()
        elif action == Action.RESUME:
            job.resume()

    def run_training(self, message: Train) -> None:
        job = self.jobs[message.job_id]
        try:
            job.dataset = self.dataset(message.options.dataset)
        except Exception as exc:  # one training fails with a sentence; the worker goes on
            reason = DATA_NOT_LOADED.format(error=exc)  # English: a page shows it with jobs.job_text
            self.finish(message.job_id, TrainingPayload(Status.FAILED, reason, None, None, None))
            return
        mark = SyncMark()
        sync_lock = threading.Lock()

        def sync(_event=None) -> None:
            with sync_lock:
                self.send(Synced(message.job_id, job.sync_since(mark)))

        job.on_event = sync
        job.run()
        sync()
        model = None
        if job.model is not None and job.result is not None:
            from siamese_core.network.persistence import model_bytes

            model = ModelBytes(
                model_bytes(job.model, job.config, threshold=job.threshold), model_facts(job.model)
            )
        payload = TrainingPayload(job.status, job.reason, job.result, job.report, model)
        job.model = job.on_event = job.report = None
        if job.shell is not None and job.status in (Status.FINISHED, Status.STOPPED):
            # its weights are in the payload now: the next training of this shape starts from it
            self.shells.give_back(job.config, job.shell)
        job.shell = None
        self.finish(message.job_id, payload)

    def run_task(self, message: RunTask) -> None:
        job_id = message.job_id
        stop = self.jobs[job_id]
        last = [0.0]

        def report(fraction: float, text: str, state: Any = None) -> None:
            """A task's progress; ``state`` (optional, small) is what its page draws live."""
            if stop.is_set():
                raise Stopped()
            now = time.monotonic()
            if now - last[0] >= 0.2:
                last[0] = now
                self.send(Synced(job_id, TaskProgress(min(max(fraction, 0.0), 1.0), text, state)))

        try:
            self.models.load(message.models)
            module, _, name = message.target.partition(":")
            fn = getattr(importlib.import_module(module), name)
            result = fn(report, **decode(message.kwargs, self.dataset, self.models.resolve))
            payload = TaskPayload(Status.FINISHED, result=encode(result))
        except Stopped:
            payload = TaskPayload(Status.STOPPED, reason=self.stop_reasons.get(job_id) or STOPPED_BY_USER)
        except Exception as exc:
            payload = TaskPayload(Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        self.finish(job_id, payload)

    def finish(self, job_id: int, payload: TrainingPayload | TaskPayload) -> None:
        from siamese_core.serving.memory import release_free_memory

        self.jobs.pop(job_id, None)
        self.stop_reasons.pop(job_id, None)
        release_free_memory()
        self.send(Done(job_id, payload, pss_mb()))


def _warm_up(shells) -> None:
    """Train the Train page's default preset for a few batches on blank digits and keep its
    compiled model in ``shells``: a student's first training on this process then skips Keras's
    first-time costs and the tracing of that preset's training and inference graphs (about 2 s of
    CPU). The blank training leaves nothing behind: a shell is reset before every training."""

    from siamese_core.config import DEFAULT_PRESET, PRESETS
    from siamese_core.network.data import Pairs
    from siamese_core.network.evaluation import embed, pair_scores
    from siamese_core.network.training import pair_dataset

    config = PRESETS[DEFAULT_PRESET]
    shell = shells.take(config)
    blank = np.zeros((16, 28, 28), np.uint8)
    index = np.arange(16, dtype=np.int64)
    pairs = Pairs(index, index[::-1].copy(), np.ones((16, 1), np.float32))
    shell.model.fit(pair_dataset(blank, pairs, 8), epochs=1, verbose=0, shuffle=False)
    pair_scores(shell.model, blank, pairs.i, pairs.j)
    embed(shell.model, blank)
    shells.give_back(config, shell)


def first_to_go_when_memory_runs_out() -> bool:
    """Tell the Linux kernel to kill this process first when the container's memory runs out
    (oom_score_adj 1000): a worker fails its one job with a sentence and the pool starts another,
    while a killed web server takes every student's page with it and nothing restarts it.
    Raising one's own score needs no privilege. False where there is no such file."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
        return True
    except OSError:
        return False


def import_model_code() -> None:
    """TensorFlow, Keras and the training code: what every model process imports first (the
    template process imports it once for all of them, ``template.py``)."""
    from siamese_core.network._keras import keras

    # Keras first, through _keras (without its scikit-learn and pandas bridges: -120 MB per
    # worker); a plain ``import tensorflow`` first would load them. This statement keeps the two
    # imports apart (an import sorter would swap them).
    del keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing warnings: each job builds its own model
    from siamese_core.network import training  # noqa: F401  (Keras and the job, imported once)


def worker_main(fd: int, threads: int, warm_up: bool, core: int | None = None) -> None:
    from siamese_core.serving.container import keep_to_core
    from siamese_core.serving.memory import limit_malloc_arenas

    keep_to_core(core)  # before TensorFlow starts its threads: they inherit it
    first_to_go_when_memory_runs_out()
    limit_malloc_arenas()
    side = _WorkerSide(Connection(fd))
    import_model_code()  # at once where forked from the template, which has imported it
    import tensorflow as tf

    from siamese_core.network.shells import ModelShells

    side.shells = ModelShells()

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):  # workers share a GPU: take memory as needed
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.experimental.set_memory_growth(gpu, True)

    # Listen only now: an import in the listener while this thread imports TensorFlow
    # deadlocks on the module locks. Messages sent meanwhile wait in the socket.
    threading.Thread(target=side.listen, name="siamese-worker-listen", daemon=True).start()

    # Ready for the pages' calls now; the trainings' warm-up below runs beside them.
    calls = threading.Thread(target=side.answer_calls, name="siamese-worker-calls", daemon=True)
    calls.start()
    from siamese_core.network.training import describe_device

    side.send(Ready(os.getpid(), describe_device()))
    if warm_up:
        with contextlib.suppress(Exception):  # a warm-up is an optimisation only
            _warm_up(side.shells)
    # TensorFlow's, Keras's and the warm-up's objects live as long as the process: the collector
    # leaves them alone from now on. The full collection after every job (memory.release_free_memory)
    # and Python's own went through ~380,000 of them each time: 0.17 s of CPU a collection on a quiet
    # core, ~7% of a 1-core class's model process in py-spy; 0.00 s frozen (BENCHMARKS.md). A forked
    # process inherits the template's freeze; this adds what it made since. Cost: a warm-up shell
    # later dropped from ModelShells is not collected (one, a few MB, at most once a process).
    gc.collect()
    gc.freeze()
    while True:
        match side.inbox.get():
            case Exit():
                break
            case Train() as message:
                side.run_training(message)
            case RunTask() as message:
                side.run_task(message)
    # Retired: the calls sent before the pool stopped choosing this process are answered first.
    side.calls.put(None)
    calls.join(CALLS_DRAIN_SECONDS)
    side.conn.close()


if __name__ == "__main__":  # pickled classes must be siamese_core.serving.worker's, not __main__'s
    from siamese_core.serving.worker import worker_main

    core = int(sys.argv[4]) if len(sys.argv) > 4 else -1
    worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", None if core < 0 else core)
