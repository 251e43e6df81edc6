"""Shared against unshared, raced (siamese_core/lessons/race.py): the same pairs and budget for both,
turns taken, the parameter counts of the built models, the asymmetry of the unshared verdict;
through a real worker pool as one job; and the Weight-sharing lab's section in AppTest."""

from __future__ import annotations

import re

import numpy as np
import pytest

from siamese_core.jobs import Status, Stopped
from siamese_core.lessons.race import RaceProgress, asymmetry, race
from siamese_core.network.models import build_branch, build_siamese
from tests.helpers import TINY_RACE


@pytest.fixture(scope="module")
def raced(small_data):
    states = []
    result = race(
        lambda fraction, message, state=None: states.append((fraction, state)), TINY_RACE, small_data, 2
    )
    return result, states


def test_both_sides_train_the_same_budget_and_the_counts_are_the_built_models(raced, small_data):
    result, _ = raced
    shared, unshared = result.shared, result.unshared
    assert (shared.shared, unshared.shared) == (True, False)
    assert shared.parameters == build_siamese(TINY_RACE).count_params()
    assert unshared.parameters == build_siamese(TINY_RACE.replace(shared=False)).count_params()
    # two branches: exactly one more branch's weights (the distance head has none)
    assert unshared.parameters - shared.parameters == build_branch("mlp", 8).count_params()
    for side in result.sides:  # 2 epochs of 512 pairs in batches of 64: 16 batches each
        assert [b.step for b in side.batches] == list(range(1, 17))
        assert len(side.epochs) == 2 and side.seconds > 0
        assert (
            0 <= side.test_accuracy <= 1 and 0 <= side.auc <= 1
        )  # (a tiny net may not learn: not the point)
    assert result.test_pairs == 2 * len(small_data.test.y)  # two balanced pairs per test digit
    assert result.config == TINY_RACE and result.dataset == "mnist-5k"


def test_both_sides_train_on_the_very_same_pairs(small_data, monkeypatch):
    """Every pair array each side draws (validation, then one per epoch), recorded per training
    thread: the two sequences are equal, element for element."""
    import threading

    from siamese_core.network import training

    drawn: dict[int, list] = {}
    real = training.pairs_for

    def recording(*args, **kwargs):
        pairs = real(*args, **kwargs)
        drawn.setdefault(threading.get_ident(), []).append(pairs)
        return pairs

    monkeypatch.setattr(training, "pairs_for", recording)
    race(lambda *a: None, TINY_RACE, small_data, 4)
    first, second = drawn.values()
    assert len(first) == len(second) == 1 + TINY_RACE.epochs  # validation pairs, then each epoch's
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.i, b.i) and np.array_equal(a.j, b.j) and np.array_equal(a.label, b.label)


def test_the_shared_side_is_the_same_run_as_a_training_alone(raced, small_data):
    """Turns change nothing but the order: the shared side's losses are those of a lone run of its
    configuration (same seed: same initial weights, same pairs)."""
    from siamese_core.network.training import TrainingJob

    result, _ = raced
    alone = TrainingJob(TINY_RACE, small_data, probe_per_class=1)
    alone.run()
    assert [b.loss for b in result.shared.batches] == pytest.approx([b.loss for b in alone.batches], abs=1e-5)
    assert result.shared.test_accuracy == pytest.approx(alone.report.accuracy, abs=1e-9)


def test_the_sides_take_turns_so_both_curves_grow_together(raced):
    _, states = raced
    steps = [(len(s.shared), len(s.unshared)) for _, s in states if s]
    assert len(steps) >= 8
    assert all(abs(a - b) <= 2 for a, b in steps), steps  # never more than one turn (2 batches) apart
    fractions = [f for f, _ in states]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_shared_network_answers_the_same_both_ways_an_unshared_one_does_not(raced, small_data):
    result, _ = raced
    assert result.shared.asymmetry_max == 0.0  # one branch, a symmetric distance: bit for bit
    assert (
        result.unshared.asymmetry_mean > 1e-4
        and result.unshared.asymmetry_max > result.unshared.asymmetry_mean
    )
    # the measure itself, on an untrained model whose two branches differ
    model = build_siamese(TINY_RACE.replace(shared=False))
    i, j = np.arange(0, 20), np.arange(20, 40)
    gap = asymmetry(model, small_data.test.x, i, j)
    assert gap.shape == (20,) and (gap > 0).all()
    assert asymmetry(build_siamese(TINY_RACE), small_data.test.x, i, j).max() == 0.0


def test_stop_ends_both_sides(small_data):
    calls = []

    def report(fraction, message, state=None):
        calls.append(fraction)
        if len(calls) == 3:
            raise Stopped()

    with pytest.raises(Stopped):
        race(report, TINY_RACE.replace(epochs=50), small_data, 2)
    assert len(calls) == 3


def test_a_race_is_one_job_in_the_worker_pool():
    """One place in the line and one worker: a second job waits behind it."""
    from siamese_core.serving.mirrors import RemoteTask
    from siamese_core.serving.pool import WorkerPool
    from siamese_core.serving.protocol import DatasetRef

    pool = WorkerPool(1, warm_up=False)
    try:
        kwargs = {"config": TINY_RACE, "data": DatasetRef("mnist-5k", TINY_RACE.seed, (), TINY_RACE.val_size)}
        task = RemoteTask("race", "siamese_core.lessons.race:race", kwargs)
        behind = RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 0.1})
        pool.submit(task)
        pool.submit(behind)
        assert pool.place(behind).position == 1
        assert task.join(300) and behind.join(60)
        snapshot = task.snapshot()
        assert snapshot.status == Status.FINISHED, snapshot.error
        assert snapshot.result.unshared.parameters > snapshot.result.shared.parameters
        assert isinstance(snapshot.state, RaceProgress) and set(snapshot.state.curves()) == {
            "shared",
            "unshared",
        }
        assert pool.stats().finished == 2
    finally:
        pool.shutdown()


def test_the_lab_races_and_shows_both_networks(monkeypatch):
    from siamese_ui import race_view
    from tests.helpers import TIMEOUT, app

    monkeypatch.setattr(race_view, "BUDGET", TINY_RACE)  # the page's budget, shrunk for a test
    from siamese_core.serving.mirrors import RemoteTask
    from siamese_ui.resources import worker_pool

    pool = worker_pool()
    busy = [RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 60}) for _ in range(pool.size)]
    for job in busy:
        pool.submit(job)
    try:
        at = app("pages/weight_sharing.py")
        at.button(key="ws.race.start").click().run()
        task = at.session_state["lessons.task.race"][1]
        assert task.snapshot().status == Status.QUEUED  # in the same line as every training
        assert any(re.search(r"\d+(st|nd|rd|th) in line", i.value) for i in at.info), [
            i.value for i in at.info
        ]
        # one training per student: the Train page says where the waiting one is
        at.switch_page("pages/train.py").run()
        next(b for b in at.button if b.label == "Start").click().run()
        assert any("the race on the Weight-sharing lab" in w.value for w in at.warning), [
            w.value for w in at.warning
        ]
        assert "train.job" not in at.session_state
        # A reload (a new session of the same browser) finds the race in line: its place, no Start
        reloaded = app()  # the cookie brings only the id: it is put where student_id() keeps it
        reloaded.session_state["student.id"] = at.session_state["student.id"]
        reloaded.switch_page("pages/weight_sharing.py").run()
        assert reloaded.button(key="ws.race.start").disabled
        assert any(re.search(r"\d+(st|nd|rd|th) in line", i.value) for i in reloaded.info), [
            i.value for i in reloaded.info
        ]
    finally:
        for job in busy:
            job.stop()
    assert task.join(TIMEOUT)
    at.switch_page("pages/weight_sharing.py").run()
    assert not at.exception, [e.value for e in at.exception]
    result = task.snapshot().result
    table = next(d.value for d in at.dataframe if "weights" in d.value.columns)
    assert list(table["weights"]) == ["shared", "unshared"]
    assert list(table["parameters"]) == [
        build_siamese(TINY_RACE.replace(branch="mlp", embedding_dim=128, shared=s)).count_params()
        for s in (True, False)
    ]
    sentence = next(m.value for m in at.markdown if "d(A, B) ≠ d(B, A)" in m.value)
    shown = list(table["test pair accuracy (%)"])  # the sentence restates the table's rounded values
    assert shown == [round(100 * side.test_accuracy, 2) for side in result.sides]
    gap = round(shown[0] - shown[1], 2)
    assert (f"by **{abs(gap):.2f} points**" if gap else "scored the same") in sentence
    assert f"**{result.unshared.parameters / result.shared.parameters:.2f}×** the parameters" in sentence
    assert "the shared network's distances are **identical** both ways (difference exactly 0)" in sentence
    # both runs are now postable to the class board, with the race's own numbers
    at.switch_page("pages/board.py").run()
    lines = [m.value for m in at.markdown if "parameters · test pair accuracy" in m.value]
    assert len(lines) == 2 and f"**{100 * result.unshared.test_accuracy:.2f}%**" in lines[1]
    from siamese_core.network.data import dataset_title

    # the data set by its name for people, as the lab's sentence names it, not its key ("mnist-5k")
    assert all(line.endswith(f" s of training · {dataset_title(result.dataset)}") for line in lines), lines
    assert result.dataset not in dataset_title(result.dataset)


def _side(shared: bool, accuracy: float, seconds: float, asymmetry_max: float, asymmetry_mean: float):
    from siamese_core.lessons.race import RaceSide

    parameters = 133_504 if shared else 267_008
    return RaceSide(
        shared, parameters, seconds, accuracy, 0.99, 0.5, asymmetry_mean, asymmetry_max, (), (), "x"
    )


def _hand_made_race(**shared_side):
    """A race whose numbers are chosen so that rounding matters: shared 98.244% and unshared 93.616%
    show as 98.24 and 93.62 in the table, 4.62 points apart, although the raw gap is 4.628 (4.63)."""
    from siamese_core.lessons.race import RaceResult

    shared = {
        "accuracy": 0.98244,
        "seconds": 3.004,
        "asymmetry_max": 0.0,
        "asymmetry_mean": 0.0,
    } | shared_side
    return RaceResult(
        TINY_RACE.replace(dataset="mnist"),
        "mnist",
        20_000,
        _side(True, **shared),
        _side(False, 0.93616, 6.046, 0.123456, 0.0456789),
    )


def test_the_race_sentence_restates_the_tables_rounded_numbers():
    from siamese_ui.race_view import result_rows, result_sentence

    result = _hand_made_race()
    rows = result_rows(result)
    assert [r["test pair accuracy (%)"] for r in rows] == [98.24, 93.62]
    assert [r["training time (s)"] for r in rows] == [3.0, 6.05]
    sentence = result_sentence(result)
    # 98.24 - 93.62 = 4.62 (not 4.63, the gap of the unrounded accuracies)
    assert "by **4.62 points**" in sentence, sentence
    # 6.05 s / 3.00 s as the table shows them: 2.02× (the unrounded 6.046 / 3.004 is 2.0126…, 2.01×)
    assert "2.02× the training time" in sentence, sentence
    # the asymmetry columns show what the sentence says, to 3 significant digits
    assert [r["max |d(A,B) − d(B,A)|"] for r in rows] == [0.0, 0.123]
    assert [r["mean |d(A,B) − d(B,A)|"] for r in rows] == [0.0, 0.0457]
    assert "up to **0.123** (mean 0.0457)" in sentence, sentence


def test_a_shared_network_measured_at_exactly_zero_is_called_identical_not_at_most_zero():
    from siamese_ui.race_view import result_sentence

    sentence = result_sentence(_hand_made_race())
    assert "at most **0**" not in sentence, sentence
    assert "the shared network's distances are **identical** both ways (difference exactly 0)" in sentence
    # a measured difference that is not zero keeps its number
    sentence = result_sentence(_hand_made_race(asymmetry_max=2.5e-7, asymmetry_mean=1e-7))
    assert "the shared network's distances differ by at most **2.5e-07**" in sentence, sentence


def test_the_race_names_its_data_set_as_the_rest_of_the_app_does():
    from siamese_core.network.data import dataset_title
    from siamese_ui.race_view import result_heading

    heading = result_heading(_hand_made_race())
    assert dataset_title("mnist") == "full MNIST (70,000 digits)"
    assert "full MNIST (70,000 digits)" in heading and "mnist)" not in heading, heading
