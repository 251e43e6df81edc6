"""The Train page as a class uses it (AppTest): each student's own seed, leaving the line, and the
label-convention note. Browser-side behaviour (links, keyboard focus) is in tests/e2e/."""

from __future__ import annotations

import time
from contextlib import contextmanager

from streamlit.testing.v1 import AppTest

from siamese_ui.train_form import SEED, student_seed
from tests.helpers import ROOT, TIMEOUT, TINY, app


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> list[str]:
    return [e.value for kind in (at.warning, at.info, at.success, at.error, at.markdown) for e in kind]


@contextmanager
def every_worker_busy():
    """Every worker of the server's pool napping, so a new training waits in line."""
    from siamese_core.serving.mirrors import RemoteTask
    from siamese_ui.resources import worker_pool

    pool = worker_pool()
    busy = [RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 60}) for _ in range(pool.size)]
    for job in busy:
        pool.submit(job)
    try:
        yield pool
    finally:
        for job in busy:
            job.stop()
        for job in busy:
            job.join(TIMEOUT)


def test_stop_while_in_line_says_nothing_was_trained_and_shows_no_batch_counter():
    """It used to say 'The model and the curves so far are kept' and 'batch 0/?'."""
    at = app("pages/train.py", TINY)
    with every_worker_busy():
        button(at, "Start").click().run()
        assert at.session_state["train.job"].snapshot().status == "queued"
        button(at, "Stop").click().run()
    shown = texts(at)
    assert not [t for t in shown if "so far are kept" in t or "batch 0 of" in t], shown
    assert any("You left the line before your training started: nothing was trained" in t for t in shown), (
        shown
    )
    assert not any("sl-metric" in t for t in shown)  # no row of empty figures either


def test_a_waiting_student_asks_less_often_than_a_training_one():
    """30 students, 28 of them in line: their pages redraw every 3 s, not every 0.8 s (issue 26)."""
    at = app("pages/train.py", TINY)
    with every_worker_busy():
        button(at, "Start").click().run()
        job = at.session_state["train.job"]
        assert job.snapshot().status == "queued" and at.session_state["train.refresh"] == 3.0
    deadline = time.monotonic() + TIMEOUT
    while job.snapshot().status == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    at.run()
    if job.snapshot().status in ("starting", "running"):  # (a tiny run may be over already)
        assert at.session_state["train.refresh"] == 0.8
    assert job.join(TIMEOUT)
    at.run()
    assert at.session_state["train.refresh"] is None  # nothing to watch: no redraws at all
    assert not at.exception


def test_reset_while_in_line_says_the_place_was_given_up():
    at = app("pages/train.py", TINY)
    with every_worker_busy():
        button(at, "Start").click().run()
        button(at, "Reset").click().run()
    shown = texts(at)
    assert any("You left the line before your training started: nothing was trained" in t for t in shown), (
        shown
    )
    assert "train.job" not in at.session_state


def at_for(student: str, link: dict | None = None) -> AppTest:
    """The Train page as the student with this cookie id opens it, from a link (default: TINY's
    fields and no seed)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["student.id"] = student
    at.query_params.update(link or TINY)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


A, B = "a" * 32, "0123456789abcdef" * 2


def test_two_students_get_different_seeds_and_each_sees_their_own():
    """Every classroom run with the default seed gave exactly 98.09%: one seed for everyone."""
    assert student_seed(A) != student_seed(B)
    for student in (A, B):
        at = at_for(student)
        assert at.number_input(key=SEED).value == student_seed(student)
        assert any(f"Your seed is {student_seed(student)}" in t for t in texts(at)), texts(at)


def test_the_seed_shown_is_the_seed_trained():
    at = at_for(A)
    shown = at.number_input(key=SEED).value
    button(at, "Start").click().run()
    job = at.session_state["train.job"]
    assert job.config.seed == shown == student_seed(A)
    job.stop()
    job.join(TIMEOUT)


def test_a_seed_in_the_link_wins_over_the_students_own():
    at = at_for(A, {**TINY, SEED: "4711"})
    assert at.number_input(key=SEED).value == 4711
    assert any(f"your own seed is {student_seed(A)}" in t for t in texts(at)), texts(at)


def test_a_preset_keeps_the_students_seed():
    """Home's preset buttons and the Preset box used to put everyone back on seed 0."""
    at = at_for(A)
    at.selectbox(key="train.preset").set_value("cnn").run()
    assert at.number_input(key=SEED).value == student_seed(A)
    at.switch_page("pages/home.py").run()
    at.button(key="home.preset.fast-mlp").click().run()
    assert not at.exception
    assert at.number_input(key=SEED).value == student_seed(A)


def test_the_label_note_says_what_keras_io_does_now():
    """The note described keras.io's 2021 example (match = 1, a sigmoid head) as its current one."""
    at = app("pages/train.py")
    note = next(c.value for c in at.caption if "Hadsell, Chopra and LeCun (2006)" in c.value)
    assert "labels a matching pair **0**" in note and "#1050 (September 2022)" in note
    assert "#2261 (merged on 22 January 2026, from issue #2230)" in note and "distance itself" in note
    assert "like here" not in note and "sigmoid *similarity*" not in note


def test_a_finished_run_under_other_settings_says_whose_result_it_is():
    """A classmate's link opened after one's own run (another seed, unshared): the panel's
    result is the student's own earlier run, and a sentence says which settings it had."""
    from siamese_ui.train_form import settings_differ

    at = app("pages/train.py", TINY)
    button(at, "Start").click().run()
    job = at.session_state["train.job"]
    assert job.join(TIMEOUT)
    at.run()
    assert not [
        i.value for i in at.info if "other settings than the form" in i.value
    ]  # the form is the run's
    at.toggle(key="train.shared").set_value(False).run()
    at.number_input(key=SEED).set_value(22485).run()
    said = [i.value for i in at.info if "other settings than the form" in i.value]
    own = job.config.seed
    assert said == [
        "The result below is from your earlier run, trained with other settings than the form shows: "
        f"Shared weights on (the form: off); Seed {own} (the form: 22485). "
        "Press **Start** to train the form's settings."
    ], said
    assert settings_differ(job.config, job.config) == ""


def test_a_stopped_run_of_the_examples_protocol_says_it_stopped_early():
    """It said "57.25% after 1 epoch (the example's own setup)" of a run stopped after 4 batches."""
    at = app("pages/train.py", {**TINY, "train.pair_protocol": "keras-example"})
    button(at, "Step (1 batch)").click().run()
    job = at.session_state["train.job"]
    end = time.monotonic() + TIMEOUT
    while job.snapshot().step < 1:
        assert time.monotonic() < end, "the step did not run"
        time.sleep(0.5)
    button(at, "Stop").click().run()
    assert job.join(TIMEOUT)
    at.run()
    snapshot = job.snapshot()
    (said,) = [i.value for i in at.info if "**Yours:**" in i.value]
    assert said.endswith(
        f"after {snapshot.step} of {snapshot.total_steps} batches (stopped early, so not the example's whole run)."
    ), said


def test_a_stop_on_its_way_says_so_and_leaves_only_reset():
    """After Stop the run still ends its batch and tests its model (seconds on a busy server):
    the panel said "Training · … ETA 12 s" with Pause and Stop enabled, as if nothing had been
    pressed (the class exploratory pass)."""
    at = app("pages/train.py", {**TINY, "train.epochs": "200"})
    button(at, "Start").click().run()
    job = at.session_state["train.job"]
    end = time.time() + TIMEOUT
    while job.snapshot().step < 2 and time.time() < end:  # running, past its first batches
        time.sleep(0.2)
    assert job.snapshot().status == "running"
    button(at, "Stop").click().run()
    assert not job.ended  # its batch and its test take the worker longer than drawing the page
    assert any(t.startswith("**Stopping:**") for t in texts(at)), texts(at)
    assert [button(at, name).disabled for name in ("Pause", "Stop")] == [True, True]
    assert not button(at, "Reset").disabled
    assert job.join(TIMEOUT)
    at.run()
    assert not any(t.startswith("**Stopping:**") for t in texts(at))
    assert any(t.startswith("Stopped (stopped by the user)") for t in texts(at)), texts(at)


def test_after_one_step_the_paused_charts_show_their_one_point():
    """A line of one point draws nothing: after Step the charts were empty axes while the metric
    above said the loss (session 14's exploratory class). A lone point gets its marker."""
    import json

    at = app("pages/train.py", {**TINY, "train.pair_protocol": "keras-example"})  # one batch a step
    button(at, "Step (1 batch)").click().run()
    job = at.session_state["train.job"]
    end = time.monotonic() + TIMEOUT
    while not (job.snapshot().step >= 1 and job.snapshot().status == "paused"):
        assert time.monotonic() < end, "the step did not run"
        time.sleep(0.3)
    at.run()
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    running = [t for spec in charts for t in spec["data"] if "running" in t.get("name", "")]
    assert running and all(len(t["x"]) == 1 and "markers" in t["mode"] for t in running), running
    assert "batch 1 of" in at.session_state["a11y.announced"]["train.status"][0]
    # a second Step: the screen reader's status region says batch 2 at once, not 10 s later
    button(at, "Step (1 batch)").click().run()
    while not (job.snapshot().step >= 2 and job.snapshot().status == "paused"):
        assert time.monotonic() < end, "the second step did not run"
        time.sleep(0.3)
    at.run()
    said = at.session_state["a11y.announced"]["train.status"][0]
    assert said.startswith("Paused · epoch 1/1 · batch 2 of"), said
    button(at, "Stop").click().run()
    assert job.join(TIMEOUT)


def test_a_run_that_collapsed_says_so_and_a_run_that_learned_does_not():
    """Two branches that share no weights, Euclidean distance and a high learning rate: the MLP's
    ReLU embeddings die and the run ends at chance (found in an exploratory session with the
    classroom preset unshared: 50.6% and a flat loss, told nothing)."""
    collapse = {"train.shared": "false", "train.distance": "euclidean", "train.learning_rate": "0.01"}
    at = app("pages/train.py", {**TINY, **collapse, "train.seed": "1"})
    button(at, "Start").click().run()
    job = at.session_state["train.job"]
    assert job.join(TIMEOUT)
    at.run()
    assert not at.exception
    result = job.snapshot().result
    assert result.auc < 0.6, result
    said = [w.value for w in at.warning if "did not learn to tell pairs apart" in w.value]
    assert len(said) == 1, [w.value for w in at.warning]
    assert f"its ROC AUC is {result.auc:.3f}" in said[0]
    assert "Its embeddings collapsed: 300 test digits" in said[0] and "share no weights" in said[0]
    # the pages that use the model say it too (Embeddings named "10 digit clusters" of it)
    for page in ("embeddings", "compare"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        there = [w.value for w in at.warning if "did not learn to tell pairs apart" in w.value]
        assert len(there) == 1 and there[0].startswith("What this page shows of it means little."), page
        assert f"its ROC AUC is {result.auc:.3f}" in there[0]
        if page == "embeddings":
            # every test digit at one spot (its ReLU embeddings are all 0): the map says so, not
            # "Tightest: 0 (0); loosest: 0 (0)", and PCA is not asked to fit no variance (0/0 warned)
            maps = [c.value for c in at.caption if "all at one spot" in c.value]
            spot = "all at one spot: the model gives every digit the same embedding, so the map cannot tell the digits apart."
            assert maps == [
                f"1,000 points, {spot}",
                f"300 points, {spot}",
            ]  # the map, and the replay's last epoch
            assert not [c.value for c in at.caption if "Tightest" in c.value]

    learned = app("pages/train.py", {**TINY, "train.seed": "1"})
    button(learned, "Start").click().run()
    assert learned.session_state["train.job"].join(TIMEOUT)
    learned.run()
    assert learned.session_state["train.job"].snapshot().result.auc > 0.6
    assert not [w.value for w in learned.warning if "did not learn" in w.value]
    learned.switch_page("pages/embeddings.py").run()
    assert "trained in this session, run 1" in learned.success[0].value
    assert not [w.value for w in learned.warning if "did not learn" in w.value]


def test_a_paused_run_is_told_it_will_yield_to_the_line_and_then_does():
    """A student who paused (or stepped) and left the page held a worker while the class waited:
    with a training in line the page counts down, and the run is then stopped and tested."""
    from siamese_core.serving.mirrors import RemoteTask
    from siamese_ui.resources import worker_pool

    at = app("pages/train.py", TINY)
    button(at, "Step (1 batch)").click().run()
    job = at.session_state["train.job"]
    end = time.monotonic() + TIMEOUT
    while not (job.snapshot().status == "paused" and job.snapshot().step >= 1):
        assert time.monotonic() < end, "the step did not run"
        time.sleep(0.2)
    pool = worker_pool()
    others = [RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 60}) for _ in range(pool.size)]
    for other in others:
        pool.submit(other)  # the other workers nap, and one more waits in line
    try:
        at.run()
        said = [w.value for w in at.warning if "waiting in line for a worker" in w.value]
        assert len(said) == 1 and said[0].startswith("1 training is waiting in line for a worker: in "), said
        seconds = int(said[0].split(": in ")[1].split(" s ")[0])
        assert 50 <= seconds <= 60, said  # line.PAUSED_YIELD_SECONDS, counted from the pause
        size = pool.size  # every worker is taken: the paused run's and the naps'
        line = [c.value for c in at.caption if "trainings running" in c.value]
        assert line == [
            f"On this server: **{size} of {size}** trainings running, **1** waiting in line (everyone's "
            "trainings count; the line moves by itself). 1 of the running trainings is paused: it keeps "
            "its worker until it goes on or yields it to the line."
        ], line
        pool.paused_yield_seconds = 1.0
        assert job.join(TIMEOUT)
        at.run()
        assert not at.exception
        snapshot = job.snapshot()
        assert (snapshot.status, snapshot.reason) == (
            "stopped",
            "it stayed paused for 1 s while other trainings waited for a worker",
        )
        assert any("it stayed paused for 1 s while other trainings waited" in t for t in texts(at)), texts(at)
        line = [c.value for c in at.caption if "trainings running" in c.value]
        assert len(line) == 1 and "paused" not in line[0], line  # it yielded: none is paused now
    finally:
        pool.paused_yield_seconds = 60.0
        for other in others:
            other.stop()
        for other in others:
            other.join(TIMEOUT)


def test_step_says_how_many_batches_it_runs_even_at_an_epochs_end():
    """Keras runs an epoch's last call short: 16 batches an epoch, 5 a call: 5, 5, 5 and then 1. The
    button said 'Step (8 batches)' and moved 2 at the classroom preset's epoch end (exploratory
    session); it now names what the next Step runs, and that is what it runs."""
    short = app("pages/train.py", {**TINY, "train.pairs_per_epoch": "192", "train.steps_per_execution": "5"})
    assert [b.label for b in short.button if b.label.startswith("Step (")] == ["Step (3 batches)"]  # 192 / 64
    at = app("pages/train.py", {**TINY, "train.epochs": "2", "train.steps_per_execution": "5"})
    job, end = None, time.monotonic() + TIMEOUT
    for before, label, after in [
        (0, "Step (5 batches)", 5),
        (5, "Step (5 batches)", 10),
        (10, "Step (5 batches)", 15),
        (15, "Step (1 batch)", 16),  # the epoch's last call
        (16, "Step (5 batches)", 21),  # the next epoch's first
    ]:
        steps = [b.label for b in at.button if b.label.startswith("Step (")]
        assert steps == [label], (before, steps)
        button(at, label).click().run()
        job = at.session_state["train.job"]
        while not (job.snapshot().step == after and job.snapshot().status == "paused"):
            assert time.monotonic() < end, (after, job.snapshot().step, job.snapshot().status)
            time.sleep(0.2)
        at.run()
        assert not at.exception
    button(at, "Stop").click().run()
    assert job.join(TIMEOUT)


def test_a_runs_own_link_names_its_nearest_preset_what_differs_and_its_seed():
    """What a bare /train opens when it finds the student's run (worked by hand): the classroom
    preset with the MLP branch, unshared, Euclidean, lr 0.01, seed 1, 8 and 9 held out differs from
    classroom in those six fields and from fast-mlp in ten (embedding 32, margin 0.7, learning rate,
    batch 128, 5 epochs, 10,000 pairs, shared, distance, seed, held-out digits)."""
    from siamese_core.config import PRESETS
    from siamese_ui.train_form import run_link

    run = PRESETS["classroom"].replace(
        branch="mlp", shared=False, distance="euclidean", learning_rate=0.01, seed=1, held_out_classes=(8, 9)
    )
    assert run_link(run) == {
        "train.preset": "classroom",
        "train.branch": "mlp",
        "train.shared": "false",
        "train.distance": "euclidean",
        "train.learning_rate": "0.01",
        "train.held_out_classes": ["8", "9"],
        "train.seed": "1",
    }
    # a preset run as it is: the preset and the seed only; none held out against a preset's two: ""
    assert run_link(PRESETS["cnn"].replace(seed=5)) == {"train.preset": "cnn", "train.seed": "5"}
    held = PRESETS["held-out-8-9"]
    assert run_link(held.replace(held_out_classes=(), seed=2))["train.held_out_classes"] == ""
