"""The training job: Keras ``fit`` on index pairs, reporting events, controllable from
another thread (pause, resume, step, stop). Knows nothing of any UI.

A page starts a job in a background thread and reads ``job.snapshot()`` (a frozen
:class:`JobSnapshot`) on a timer; a script calls ``job.run()`` and reads ``job.result``.
Every change of the job's state goes through one method per kind (:meth:`_set_status`,
:meth:`_record_batch`, :meth:`_record_epoch`), which updates the state and hands the same
fact to ``on_event``: the snapshot and the event stream cannot disagree.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from siamese_core.config import SPLIT_SEED, SiameseConfig
from siamese_core.jobs import (
    ABANDONED,
    BATCH_LIMIT,
    LOSS_NOT_FINITE,
    MORE_GPUS,
    STOPPED_BY_USER,
    JobSnapshot,
    JobState,
    Status,
    ThreadedJob,
    with_grace,
)
from siamese_core.network._keras import keras
from siamese_core.network.data import Dataset, load_dataset, pairs_for, probe_indices
from siamese_core.network.shells import ModelShells, Shell, compile_model
from siamese_core.results import BatchRow, EpochRow, TrainingResult
from siamese_core.serving.memory import release_free_memory

__all__ = ["ABANDONED", "JobSnapshot", "JobState", "Status", "TrainingJob", "with_grace"]

# {"kind": "status", "status", "reason"}, {"kind": "batch" | "epoch", "row": BatchRow | EpochRow},
# {"kind": "done", "status", **TrainingResult.as_dict()}
Event = dict[str, Any]
THREAD_NAME = "siamese-train"  # the Python name of every training thread


def describe_device() -> str:
    """ "CPU" or the name of the first GPU TensorFlow sees (it uses that GPU by itself); in English,
    shown with ``siamese_core.jobs.job_text``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    try:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name")
    except Exception:  # details are best-effort on some drivers
        name = None
    device = f"GPU: {name or gpus[0].name}"
    return MORE_GPUS.format(device=device, more=len(gpus) - 1) if len(gpus) > 1 else device


PREFETCH_BATCHES = 2  # batches made ahead while the model trains on one (an epoch gathered in the graph)
# An epoch whose pair images take at most this many bytes is gathered ahead, in NumPy (and copied once
# more into tf.data: twice this at the peak): the classroom preset's 10,000 pairs are 15.7 MB, and a
# warm run took 3.99-4.13 CPU-s against 4.14-4.26 with a gather in the graph for every batch
# (BENCHMARKS.md, "One trace per architecture"). A larger epoch (the cnn preset's 40,000 pairs: 63 MB; up to
# 2,000,000 pairs: 3 GB) is gathered batch by batch in the graph.
PAIR_IMAGES_GATHERED_AHEAD = 32 * 2**20


def pair_dataset(
    images, pairs, batch_size: int, shuffle_seed: int | None = None, tensors: dict | None = None
):
    """A tf.data pipeline of the pairs' uint8 images, in batches, in a seeded shuffled order.

    A small epoch (at most ``PAIR_IMAGES_GATHERED_AHEAD`` bytes of pair images) is gathered once in
    NumPy; a larger one is gathered batch by batch with ``tf.gather`` from one image tensor, so no
    pair array of its images ever exists. Both give the same batches in the same order: tf.data's
    shuffle of the same seed and length, taken once as a permutation for the first. Labels stay
    (n, 1), like the model output. ``images``: a NumPy array; ``tensors``: where the image tensor
    of the second way is kept between a training's epochs (made once, not once an epoch).
    """
    import tensorflow as tf

    n = len(pairs)
    options = tf.data.Options()
    # No autotuning: its background thread made one `fit` in three wait 4-5 s at its end with
    # the CPU idle (each epoch is one `fit` on a fresh pipeline), costing ~15% of a CNN run.
    options.autotune.enabled = False
    if 2 * n * int(np.prod(images.shape[1:])) * images.dtype.itemsize <= PAIR_IMAGES_GATHERED_AHEAD:
        order = np.arange(n)
        if shuffle_seed is not None and n:
            shuffled = tf.data.Dataset.range(n).shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=False)
            order = next(iter(shuffled.batch(n))).numpy()
        images = np.asarray(images)
        i, j = pairs.i[order], pairs.j[order]
        ds = tf.data.Dataset.from_tensor_slices(((images[i], images[j]), pairs.label[order]))
        return ds.batch(batch_size).with_options(options)
    tensors = {} if tensors is None else tensors
    if "images" not in tensors:
        tensors["images"] = tf.constant(images)  # the one copy the batches are gathered from
    images = tensors["images"]
    ds = tf.data.Dataset.from_tensor_slices((pairs.i, pairs.j, pairs.label))
    if shuffle_seed is not None:
        ds = ds.shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=False)
    ds = ds.batch(batch_size)
    # one vectorised gather per batch: cheap, so no parallel map is needed to keep up
    ds = ds.map(lambda i, j, y: ((tf.gather(images, i), tf.gather(images, j)), y)).prefetch(PREFETCH_BATCHES)
    return ds.with_options(options)


@dataclass
class _Control:
    """What the UI thread asks of the training thread, guarded by one condition."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    paused: bool = False
    stop: bool = False
    step_budget: int = 0  # batches to run before pausing again (single-step mode)


class TrainingJob(JobState, ThreadedJob):
    """One training run of one configuration.

    Thread-safety: the training thread writes, any thread may call ``snapshot()``,
    ``pause()``, ``resume()``, ``step()``, ``stop()``; all shared state sits behind a lock.
    """

    def __init__(
        self,
        config: SiameseConfig,
        dataset: Dataset | None = None,
        on_event: Callable[[Event], None] | None = None,
        strategy=None,
        batch_events_per_second: float = 10.0,
        probe_per_class: int = 30,
        max_batches: int | None = None,
        test_protocol: str | None = None,
        keep_alive: Callable[[], bool] | None = None,
        shells: ModelShells | None = None,
    ):
        self.config = config
        self.dataset = dataset
        self.on_event = on_event
        self.strategy = strategy
        self.min_event_gap = 1.0 / batch_events_per_second if batch_events_per_second else 0.0
        self.probe_per_class = probe_per_class
        self.max_batches = max_batches  # a cap for tests and classroom walk-throughs
        self.test_protocol = test_protocol or config.pair_protocol
        # Asked every few seconds from the training thread; False stops the job (a UI passes
        # "is the student's browser session still open?" so closed tabs free their memory).
        self.keep_alive = keep_alive
        # Where this job's compiled model comes from, when its process keeps them (ModelShells);
        # ``self.shell`` is the one lent, for the owner to give back.
        self.shells = shells if strategy is None else None
        self.shell: Shell | None = None
        self._last_alive_check = 0.0
        self._lock = threading.Lock()
        self._control = _Control()
        self._thread: threading.Thread | None = None
        # --- state read by the UI (under _lock) ---
        self._init_state()
        self.probe_labels: np.ndarray | None = None
        self.probe_images: np.ndarray | None = None
        self.probe_snapshots: list[np.ndarray] = []  # embeddings of the probe per epoch (0 = init)
        self.probe_index: np.ndarray | None = None  # which test digits the probe is
        self.report = None  # the test report (siamese_core.network.evaluation.Report) once the run is over
        self.model = None
        self._last_event = 0.0

    # ---- control (any thread) ------------------------------------------------------------
    def start(self, on_exit: Callable[[], None] | None = None) -> threading.Thread:
        """Run in a daemon thread; ``on_exit`` is called when it ends, however it ends."""
        if self._thread is not None:
            raise RuntimeError("a job runs once; make a new TrainingJob to train again")
        self._set(status=Status.STARTING)

        def target():
            try:
                self.run()
            finally:
                if on_exit is not None:
                    on_exit()
                release_free_memory()

        self._thread = threading.Thread(target=target, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self._thread

    def pause(self) -> None:
        with self._control.cond:
            self._control.paused = True
            self._control.step_budget = 0

    def resume(self) -> None:
        with self._control.cond:
            self._control.paused = False
            self._control.step_budget = 0
            self._control.cond.notify_all()

    @property
    def waiting_for_a_step(self) -> bool:
        """Paused with no batch left to step (a step that ran out pauses it)."""
        return self.status == Status.PAUSED and self._control.step_budget == 0

    def step(self, batches: int = 1) -> None:
        """Run ``batches`` more batches, then pause (starts paused if it was running)."""
        with self._control.cond:
            self._control.paused = False
            self._control.step_budget = batches
            self._control.cond.notify_all()

    def stop(self, reason: str | None = None) -> None:
        """Ask the job to stop after the current batch; the model and history are kept. The
        first stop's ``reason`` is what its owner reads ("stopped by the teacher")."""
        if reason is not None:
            with self._lock:
                self.reason = self.reason or reason
        with self._control.cond:
            self._control.stop = True
            self._control.cond.notify_all()

    def abandon(self) -> None:
        """Its owner's tabs are all gone: stop, and skip the test report nobody would read."""
        with self._lock:
            self.reason = ABANDONED
        self.stop()

    # ---- the training thread ----------------------------------------------------------------
    def _set(self, **kw) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _set_status(self, status: Status, reason: str | None = None, **extra) -> None:
        """The one place a status changes: state first, then the same fact as an event."""
        with self._lock:
            self.status = status
            if reason is not None:
                self.reason = reason
            for key, value in extra.items():
                setattr(self, key, value)
        self._emit({"kind": "status", "status": status, "reason": self.reason})

    def _record_epoch(self, row: EpochRow) -> None:
        with self._lock:
            self.epochs.append(row)
            self.threshold = row.threshold
        self._emit({"kind": "epoch", "row": row})

    def run(self) -> dict | None:
        """Train synchronously (``start()`` runs this in a thread). Returns ``self.result``."""
        try:
            self._set_status(Status.STARTING)
            self._run()
        except Exception as exc:  # a UI must see the reason, not a dead thread
            self._set_status(Status.FAILED, f"{type(exc).__name__}: {exc}")
        finally:
            self._fit_started = 0.0
        return self.result

    def _run(self) -> None:
        from siamese_core.network.evaluation import accuracy_at, best_threshold, embed, pair_scores
        from siamese_core.network.models import build_siamese

        c = self.config
        ds = self.dataset or load_dataset(c.dataset, SPLIT_SEED, c.held_out_classes, val_size=c.val_size)
        self.dataset = ds
        device = describe_device()
        if self.strategy is not None:
            device += f" x{self.strategy.num_replicas_in_sync} replicas"
        self._set(device=device)
        rng = np.random.default_rng(c.seed)

        scope = self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()
        if self.shells is not None:
            self.shell = self.shells.take(c)
            model = self.shell.model
        else:
            with scope:
                model = build_siamese(c)
                compile_model(model, c)
        self._set(model=model)
        val_pairs = pairs_for(c.pair_protocol, ds.val.y, 2 * len(ds.val.y), np.random.default_rng(c.seed + 2))
        probe = probe_indices(ds.test.y, self.probe_per_class, c.seed)
        self._set(probe_index=probe, probe_labels=ds.test.y[probe], probe_images=ds.test.x[probe])
        self.probe_snapshots.append(embed(model, ds.test.x[probe]).astype(np.float32))
        train_pairs = pairs_for(c.pair_protocol, ds.train.y, c.pairs_per_epoch, rng)
        steps = math.ceil(len(train_pairs) / c.batch_size)
        self._set_status(Status.RUNNING, steps_per_epoch=steps)
        callback = _JobCallback(self)
        tensors: dict = {}  # the training images as one tensor, where an epoch is gathered in the graph
        for epoch in range(c.epochs):
            if epoch > 0 and c.resample_pairs:
                train_pairs = pairs_for(c.pair_protocol, ds.train.y, c.pairs_per_epoch, rng)
            data = pair_dataset(ds.train.x, train_pairs, c.batch_size, c.seed + epoch, tensors)
            self._fit_started = time.perf_counter()
            model.fit(
                data, epochs=epoch + 1, initial_epoch=epoch, verbose=0, callbacks=[callback], shuffle=False
            )
            with self._lock:
                self.train_seconds += time.perf_counter() - self._fit_started
                self._fit_started = 0.0
            if callback.epoch_batches == 0:
                break  # stopped before this epoch ran a single batch
            # ---- validation: loss, calibrated threshold, accuracy (not counted as training time)
            scores = pair_scores(model, ds.val.x, val_pairs.i, val_pairs.j)
            same = val_pairs.label[:, 0]
            threshold = best_threshold(scores, same)[0] if c.calibrate_threshold else 0.5
            val_acc = accuracy_at(scores, same, threshold)
            val_loss = validation_loss(c, scores, same)
            self.probe_snapshots.append(embed(model, ds.test.x[probe]).astype(np.float32))
            partial = callback.stop_requested()
            self._record_epoch(
                EpochRow(
                    epoch=epoch + 1,
                    loss=callback.last_logs.get("loss"),
                    pair_accuracy=callback.last_logs.get("pair_accuracy"),
                    val_loss=val_loss,
                    val_pair_accuracy=val_acc,
                    threshold=threshold,
                    seconds=self.train_seconds,
                    complete=not partial,
                )
            )
            if partial or callback.failure:
                break
        self._finish(model, callback)

    def _finish(self, model, callback) -> None:
        from siamese_core.network.evaluation import evaluate

        c = self.config
        if callback.failure:
            self._set_status(Status.FAILED, callback.failure)
            return
        if self.reason == ABANDONED:  # nobody is left to read a test report or use the model
            self._set_status(Status.STOPPED, ABANDONED, model=None)
            return
        report = evaluate(model, self.dataset, self.threshold, self.test_protocol, c.seed)
        self.report = report  # everything the Evaluate page shows about these test pairs
        result = TrainingResult(
            **report.as_dict(),
            epochs=len(self.epochs),
            steps=self.global_step,
            train_seconds=round(self.train_seconds, 3),
            dataset=self.dataset.name,
            dataset_note=self.dataset.note,
            device=self.device,
            stopped_early=callback.stop_requested(),
        )
        status = Status.STOPPED if callback.stop_requested() else Status.FINISHED
        if callback._capped() and not self._control.stop:
            self.reason = BATCH_LIMIT.format(batches=self.max_batches)
        reason = (self.reason or STOPPED_BY_USER) if status == Status.STOPPED else ""
        self._set_status(status, reason, result=result)
        self._emit({"kind": "done", "status": status, **result.as_dict()})


def validation_loss(config: SiameseConfig, scores: np.ndarray, same: np.ndarray) -> float:
    """The training loss on validation pairs, from their scores (no second forward pass)."""
    from siamese_core.network.losses import contrastive_loss, match_cross_entropy

    if config.head == "matchnet":
        return float(match_cross_entropy(same, 1.0 - scores))
    return float(
        contrastive_loss(same[:, None].astype(np.float32), scores[:, None].astype(np.float32), config.margin)
    )


class _JobCallback(keras.callbacks.Callback):
    """Records every batch, throttles events, and obeys pause / step / stop."""

    def __init__(self, job: TrainingJob):
        super().__init__()
        self.job = job
        self.last_logs: dict = {}
        self.epoch_batches = 0
        self.epoch_start_step = 0
        self.failure = ""

    def stop_requested(self) -> bool:
        return self.job._control.stop or bool(self.failure) or self._capped()

    def _check_alive(self) -> None:
        job = self.job
        now = time.perf_counter()
        if job.keep_alive is None or now - job._last_alive_check < 2.0:
            return
        job._last_alive_check = now
        if not job.keep_alive():
            job.abandon()

    def _capped(self) -> bool:
        return bool(self.job.max_batches) and self.job.global_step >= self.job.max_batches

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_batches = 0
        self.epoch_start_step = self.job.global_step
        self._wait_if_paused()
        if self.stop_requested():
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        job = self.job
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.last_logs = logs
        self.epoch_batches += 1
        now = time.perf_counter()
        with job._lock:
            # ``batch`` is the index of the last step run (several per call when
            # steps_per_execution > 1), counted from the start of this epoch; Keras reports
            # the last call of an epoch as a full one (112 for an epoch of 106 batches run 8 at
            # a time), so it is capped at the epoch's true length
            done_in_epoch = min(batch + 1, job.steps_per_epoch or batch + 1)
            job.global_step = self.epoch_start_step + done_in_epoch
            row = BatchRow(
                step=job.global_step,
                epoch=len(job.epochs) + 1,
                loss=logs.get("loss"),
                pair_accuracy=logs.get("pair_accuracy"),
                t=job._elapsed(),
            )
            job.batches.append(row)
        if not math.isfinite(logs.get("loss", 0.0)):
            self.failure = LOSS_NOT_FINITE.format(  # English: a page shows it with jobs.job_text
                loss=logs.get("loss"), step=row.step, learning_rate=f"{job.config.learning_rate:g}"
            )
        if now - job._last_event >= job.min_event_gap:
            job._last_event = now
            job._emit({"kind": "batch", "row": row})
        self._count_step()
        self._check_alive()
        self._wait_if_paused()
        if self.stop_requested():
            self.model.stop_training = True

    def _count_step(self) -> None:
        ctl = self.job._control
        with ctl.cond:
            if ctl.step_budget > 0:
                ctl.step_budget -= 1
                if ctl.step_budget == 0:
                    ctl.paused = True

    def _wait_if_paused(self) -> None:
        job, ctl = self.job, self.job._control
        with ctl.cond:
            if not ctl.paused or ctl.stop:
                return
            # the clock stops while paused, so pairs per second and the ETA stay honest
            with job._lock:
                if job._fit_started:
                    job.train_seconds += time.perf_counter() - job._fit_started
                    job._fit_started = 0.0
            job._set_status(Status.PAUSED)
            while ctl.paused and not ctl.stop:
                ctl.cond.wait(0.25)
                self._check_alive()
            with job._lock:
                job._fit_started = time.perf_counter()
        job._set_status(Status.RUNNING)
