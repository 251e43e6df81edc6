"""Shared against unshared, raced: the same setup trained twice, with and without weight
sharing, on the same data, pairs, seed and budget, taking turns a few batches at a time so both
curves grow together; then each network's parameters, training time, test report and the
asymmetry of its verdict, ``|d(A, B) - d(B, A)|``, on the same test pairs.

Each side is an ordinary :class:`~siamese_core.network.training.TrainingJob` (same pairs: its pairs and
shuffles come from ``config.seed``, which both share), stepped with its own Step control while
the other waits paused; a paused job's clock stops, so each side's time is its own training
only. It runs as one worker task (``siamese_core.lessons.race:race``): one place in the line, and the
student's one training.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from siamese_core.config import SiameseConfig
from siamese_core.i18n import N_
from siamese_core.jobs import Status, Stopped
from siamese_core.lessons import ShownText
from siamese_core.results import BatchRow, EpochRow

POLL_SECONDS = 0.005


@dataclass(frozen=True)
class RaceSide:
    shared: bool
    parameters: int  # the built model's count_params()
    seconds: float  # its own training time (its turns only; validation excluded)
    test_accuracy: float  # test pair accuracy at its calibrated threshold
    auc: float
    threshold: float
    asymmetry_mean: float  # mean |d(A, B) - d(B, A)| over the test pairs
    asymmetry_max: float
    batches: tuple[BatchRow, ...]  # every recorded batch
    epochs: tuple[EpochRow, ...]  # every epoch, with validation figures
    run_id: str  # unique: each side can be posted to a class board once


@dataclass(frozen=True)
class RaceResult:
    config: SiameseConfig  # the shared side's; the other differs only in ``shared``
    dataset: str
    test_pairs: int
    shared: RaceSide
    unshared: RaceSide

    @property
    def sides(self) -> tuple[RaceSide, RaceSide]:
        return self.shared, self.unshared


def asymmetry(model, x: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``|d(x_i, x_j) - d(x_j, x_i)|`` per pair: the same pair fed in both orders. Zero for a
    shared branch under a symmetric distance; two branches embed A and B differently."""
    from siamese_core.network.evaluation import pair_scores

    return np.abs(pair_scores(model, x, i, j) - pair_scores(model, x, j, i))


@dataclass(frozen=True)
class CurvePoint:
    """One recorded batch of one side, as its chart draws it."""

    step: int
    loss: float
    pair_accuracy: float


@dataclass(frozen=True)
class RaceProgress:
    """The race while it runs: both sides' curves so far (the task's live state)."""

    shared: tuple[CurvePoint, ...]
    unshared: tuple[CurvePoint, ...]

    def curves(self) -> dict[str, tuple[CurvePoint, ...]]:
        return {"shared": self.shared, "unshared": self.unshared}


def curve(batches: Iterable[BatchRow]) -> tuple[CurvePoint, ...]:
    """Step, loss and pair accuracy per recorded batch: what a chart of one side draws, live
    (small enough to send several times a second) and once the race is over."""
    return tuple(CurvePoint(r.step, r.loss, r.pair_accuracy) for r in batches)


def race(
    report: Callable[..., None],
    config: SiameseConfig,
    data,
    turn_batches: int = 8,
    max_batches: int | None = None,
) -> RaceResult:
    """Train ``config`` shared and unshared, taking turns of ``turn_batches`` batches (rounded to
    whole graph calls of ``steps_per_execution``). ``report(fraction, message, state)`` gets both
    sides' curves; it raises :class:`Stopped` when the owner stops the race."""
    from siamese_core.network.training import TrainingJob

    jobs = {
        shared: TrainingJob(config.replace(shared=shared), data, probe_per_class=1, max_batches=max_batches)
        for shared in (True, False)
    }
    calls = max(1, turn_batches // max(1, config.steps_per_execution))
    for job in jobs.values():
        job.pause()  # each waits for its turn at its first batch
        job.start()
        # one at a time up to there: building a model seeds Keras's global generator, and two
        # builds at once would interleave their draws (initial weights no longer the seed's)
        while not (job.status == Status.PAUSED or job.status.ended):
            time.sleep(POLL_SECONDS)
    try:
        while not all(job.status.ended for job in jobs.values()):
            for job in jobs.values():
                if job.status.ended:
                    continue
                job.step(calls)
                while not (job.status.ended or job.waiting_for_a_step):
                    time.sleep(POLL_SECONDS)
                _report(report, jobs, config)
    except Stopped:
        for job in jobs.values():
            job.stop()
        for job in jobs.values():
            job.join()
        raise
    for job in jobs.values():
        job.join()
        if job.status != Status.FINISHED or job.model is None:
            raise RuntimeError(
                f"the {'shared' if job.config.shared else 'unshared'} network's run ended: {job.reason}"
            )
    test = jobs[True].report
    if not (np.array_equal(test.i, jobs[False].report.i) and np.array_equal(test.j, jobs[False].report.j)):
        raise RuntimeError("the two networks were tested on different pairs")  # same protocol and seed
    sides = {}
    for shared, job in jobs.items():
        gap = asymmetry(job.model, job.dataset.test.x, job.report.i, job.report.j)
        sides[shared] = RaceSide(
            shared=shared,
            parameters=int(job.model.count_params()),
            seconds=float(job.result.train_seconds),
            test_accuracy=float(job.report.accuracy),
            auc=float(job.report.auc),
            threshold=float(job.report.threshold),
            asymmetry_mean=float(gap.mean()),
            asymmetry_max=float(gap.max()),
            batches=tuple(job.batches),
            epochs=tuple(job.epochs),
            run_id=secrets.token_hex(12),
        )
    return RaceResult(
        config.replace(shared=True), jobs[True].dataset.name, len(test.i), sides[True], sides[False]
    )


def _report(report: Callable[..., None], jobs: dict, config: SiameseConfig) -> None:
    done = sum(job.global_step for job in jobs.values())
    total = sum(job.steps_per_epoch * config.epochs or 1 for job in jobs.values())
    if jobs[True].max_batches:
        total = 2 * jobs[True].max_batches
    shared, unshared = (job.global_step for job in jobs.values())
    state = RaceProgress(shared=curve(jobs[True].batches), unshared=curve(jobs[False].batches))
    message = ShownText(N_("batch {shared} shared, {unshared} unshared"), shared=shared, unshared=unshared)
    report(min(done / total, 1.0) if total else 0.0, message, state)
