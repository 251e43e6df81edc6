"""When the model service replaces one of its processes: the rule alone, with no process in it.

A model process keeps a little of every training (~1 MB with a kept model shell, ~11 MB when it
builds a new model each time: BENCHMARKS.md, ``bench_shells.py``), so the pool replaces it after
``max_jobs`` jobs, or once its memory (PSS) has passed a mark. The mark is the container's
(:attr:`~siamese_core.serving.container.Plan.memory_mark_mb`), but never below what a process of
this pool weighs after a training plus ``GROWTH_MB``: at 1 GB the container's mark (600 MB) lay
below a trained process's size (~630 MB on full MNIST), and the one process was replaced after
every training, importing TensorFlow again on the one core (~10 s of CPU a training) while
Compare waited. An idle process is replaced only once it has also grown since it started, so a
mark below a fresh process's size does not replace it again and again.
"""

from __future__ import annotations

from dataclasses import dataclass

from siamese_core.serving.container import GROWTH_MB, MEMORY_MARK_MB

DEFAULT_MAX_JOBS = 50  # ten replaced the one process of a 1 GB container three times in a class of 30


@dataclass
class Retirement:
    """One pool's rule (not thread-safe: the pool asks it under its lock)."""

    max_jobs: int = DEFAULT_MAX_JOBS
    memory_mark_mb: float = MEMORY_MARK_MB
    trained_mb: float = 0.0  # the smallest a process has been after a training (PSS); 0: none yet

    def trained(self, pss_mb: float) -> None:
        """A training ended in a process that now weighs ``pss_mb``."""
        self.trained_mb = min(self.trained_mb or pss_mb, pss_mb)

    @property
    def mark_mb(self) -> float:
        """The size past which a process is replaced."""
        return max(self.memory_mark_mb, self.trained_mb + GROWTH_MB if self.trained_mb else 0.0)

    def after_job(self, jobs_done: int, pss_mb: float) -> bool:
        """Replace a process that has just ended its ``jobs_done``-th job at ``pss_mb``?"""
        return jobs_done >= self.max_jobs or pss_mb > self.mark_mb

    def when_idle(self, pss_mb: float, ready_mb: float) -> bool:
        """Replace an idle process of ``pss_mb`` that weighed ``ready_mb`` when it became ready?"""
        return pss_mb > max(self.mark_mb, ready_mb + GROWTH_MB)
