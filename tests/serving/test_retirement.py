"""When the model service replaces a process, worked out by hand (no process started: the pool's
own tests in test_workers.py run the rule with real processes)."""

from siamese_core.serving.container import GROWTH_MB
from siamese_core.serving.retirement import Retirement


def test_a_mark_below_a_trained_processs_size_rises_to_it_plus_the_growth_allowed():
    """At 1 GB the mark is 600 MB and a process weighs ~630 MB after a training on full MNIST:
    replaced after every training, until the mark rose to 630 + 100."""
    rule = Retirement(max_jobs=50, memory_mark_mb=600.0)
    assert rule.mark_mb == 600.0 and rule.after_job(1, 630.0)  # no training seen yet: the mark
    rule.trained(630.0)
    assert rule.mark_mb == 630.0 + GROWTH_MB == 730.0
    assert not rule.after_job(2, 640.0)  # the next training, ~1 MB more a run: kept
    assert rule.after_job(3, 731.0)  # grown past what a training leaves, with room: replaced
    rule.trained(700.0)  # a larger process later does not raise the mark
    assert rule.mark_mb == 730.0
    rule.trained(610.0)  # the smallest trained size sets it
    assert rule.mark_mb == 710.0


def test_a_mark_above_a_trained_process_stays_and_the_job_count_replaces_too():
    rule = Retirement(max_jobs=3, memory_mark_mb=1000.0)
    rule.trained(630.0)
    assert rule.mark_mb == 1000.0  # 630 + 100 is below the container's mark
    assert [rule.after_job(n, 640.0) for n in (1, 2, 3)] == [False, False, True]
    assert rule.after_job(1, 1000.5)


def test_an_idle_process_is_replaced_only_past_the_mark_and_grown_since_it_started():
    rule = Retirement(max_jobs=50, memory_mark_mb=300.0)  # below a fresh process (460 MB)
    assert not rule.when_idle(470.0, ready_mb=460.0)  # past the mark, but as it started
    assert not rule.when_idle(460.0 + GROWTH_MB, ready_mb=460.0)
    assert rule.when_idle(460.0 + GROWTH_MB + 1, ready_mb=460.0)
    assert not Retirement(memory_mark_mb=1000.0).when_idle(900.0, ready_mb=460.0)  # below the mark
