"""Every page in streamlit's AppTest: renders, reacts to its widgets, no exception; and the
app-layer defects a teacher hit, each pinned by a test."""

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from siamese_core.config import PRESETS, SiameseConfig
from siamese_core.network.inspect import param_breakdown
from siamese_core.network.models import build_siamese
from tests.helpers import TINY, app, as_form, finished_student, form, image_values, metric, trained_app

TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[2]


def own_seed(at) -> int:
    """The seed this AppTest session's student starts from (the Train form's default)."""
    from siamese_ui.train_form import student_seed

    return student_seed(at.session_state["student.id"])


def test_home_renders_and_names_the_data_set():
    at = app()
    assert "Siamese Lab" in at.title[0].value
    assert metric(at, "Data set in use") in ("Full MNIST", "MNIST 5k subset")
    # a fresh model service is still loading TensorFlow: "starting…" at once (never waited for),
    # then the device itself once the service has said it (the fragment polls; a run redraws it)
    assert metric(at, "Device") == "starting…" or metric(at, "Device").startswith(("CPU", "GPU"))
    from siamese_ui.resources import worker_pool

    end = time.monotonic() + TIMEOUT
    while not worker_pool().device_now():
        assert time.monotonic() < end, "the model service never said its device"
        time.sleep(0.5)
    at.run()
    assert metric(at, "Device").startswith(("CPU", "GPU")), metric(at, "Device")


def test_sharing_switch_changes_counts_to_the_core_values():
    at = app("pages/weight_sharing.py")
    for shared in (True, False):
        at.toggle(key="ws.shared").set_value(shared).run()
        assert not at.exception
        expected = param_breakdown(build_siamese(SiameseConfig(shared=shared))).total
        assert metric(at, "Total parameters") == f"{expected:,}"
    at.selectbox(key="ws.branch").set_value("matchnet").run()
    assert at.select_slider(key="ws.dim").value == 512  # the branch's own size
    at.selectbox(key="ws.head").set_value("matchnet").run()
    expected = build_siamese(
        SiameseConfig(branch="matchnet", head="matchnet", shared=False, embedding_dim=512)
    ).count_params()
    assert metric(at, "Total parameters") == f"{expected:,}"
    assert any("Different embeddings" in w.value for w in at.warning)
    at.toggle(key="ws.shared").set_value(True).run()
    assert any("Identical embeddings" in s.value for s in at.success)


def test_the_labs_components_are_named_in_the_readers_words():
    """The Chinese lab read "branch 133,504" beside "输出头 0": the branches' names are translated
    in the sentence and the table, from the same counts."""
    at = app("pages/weight_sharing.py", {"lang": "zh"})
    at.toggle(key="ws.shared").set_value(False).run()
    breakdown = param_breakdown(build_siamese(SiameseConfig(shared=False)))
    a, b, head = (c.total for c in breakdown.components)
    shown = [e.value for kind in (at.caption, at.markdown) for e in kind if "各组成部分的参数量" in e.value]
    assert shown and shown[0] == (
        f"各组成部分的参数量：分支 A {a:,}、分支 B {b:,}、输出头 {head:,}；共 {breakdown.total:,} 个。"
    ), shown
    names = [list(d.value.iloc[:, 0]) for d in at.dataframe if "组成部分" in d.value.columns]
    assert names == [["分支 A", "分支 B", "输出头"]], names


def test_weight_sharing_link_reopens_the_same_lab():
    at = app(
        "pages/weight_sharing.py",
        {"ws.shared": "false", "ws.branch": "cnn", "ws.dim": "16", "ws.n_inputs": "3"},
    )
    assert at.toggle(key="ws.shared").value is False and at.selectbox(key="ws.branch").value == "cnn"
    assert at.select_slider(key="ws.dim").value == 16 and at.slider(key="ws.n_inputs").value == 3
    expected = build_siamese(SiameseConfig(branch="cnn", shared=False, embedding_dim=16)).count_params()
    assert metric(at, "Total parameters") == f"{expected:,}"


def test_multi_input_slider_reads_real_counts():
    at = app("pages/weight_sharing.py")
    at.slider(key="ws.n_inputs").set_value(3).run()
    assert metric(at, "Layers instantiated once (right)") == "7,425,475"
    assert metric(at, "Builder called per input (mistaken)") == f"{7_425_475 + 2 * 7_096_896:,}"
    assert metric(at, "Builder wrapped in one keras.Model (right)") == "7,425,475"  # the other fix
    why = next(m.value for m in at.markdown if "Why the ratio stays below N" in m.value)
    assert "**the same number of parameters**" in why
    assert "(3 · 7,096,896 + 328,579) / (7,096,896 + 328,579) = **2.91**" in why  # 21,619,267 / 7,425,475
    figure = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [trace["name"] for trace in figure["data"]] == [
        "layers instantiated once",
        "builder wrapped in one keras.Model",
        "builder called per input",
    ]


@pytest.mark.parametrize("preset", list(PRESETS))
def test_a_preset_link_opens_that_preset_in_a_new_session(preset):
    """The old page read links on top of 'classroom': a fast-mlp link opened as the CNN. (AppTest
    does not write bound widgets back to its query string; tests/e2e/test_links.py checks the
    address bar itself in a real browser.)"""
    at = app("pages/train.py")
    at.selectbox(key="train.preset").set_value(preset).run()
    assert form(at) == as_form(PRESETS[preset].replace(seed=own_seed(at)))
    fresh = app("pages/train.py", {"train.preset": preset, "train.seed": "11"})
    assert form(fresh) == {**as_form(PRESETS[preset]), "seed": 11}
    assert fresh.selectbox(key="train.preset").value == preset


def test_out_of_range_values_get_the_forms_sentence_and_start_is_disabled():
    at = app("pages/train.py", TINY)
    at.number_input(key="train.epochs").set_value(0).run()
    assert any("Epochs must be between 1 and 500" in e.value for e in at.error)
    assert next(b for b in at.button if b.label == "Start").disabled
    at.number_input(key="train.epochs").set_value(1).run()
    assert not at.error and not next(b for b in at.button if b.label == "Start").disabled


def test_step_says_how_many_batches_it_runs():
    at = app("pages/train.py", {"train.preset": "fast-mlp"})
    assert any(b.label == "Step (8 batches)" for b in at.button)
    at.selectbox(key="train.preset").set_value("keras-example").run()
    assert any(b.label == "Step (1 batch)" for b in at.button)


def test_a_tiny_training_run_completes_and_fills_the_history():
    from siamese_core.jobs import Status

    at, job = finished_student()
    assert not at.exception
    assert job.status == Status.FINISHED and len(job.batches) == 16 and len(job.epochs) == 1
    active = at.session_state["model.active"]
    assert active.source == "trained in this session" and active.model is job.model
    assert any("Test pair accuracy" in s.value for s in at.success)
    panel = next(m.value for m in at.markdown if 'class="sl-live"' in m.value)  # the status block
    assert "Finished · epoch 1/1 · batch 16 of 16 in all" in panel
    assert f">{100 * job.epochs[-1].val_pair_accuracy:.2f}%<" in panel
    # buttons from the same snapshot as the panel: a finished run enables Start, disables Stop
    buttons = {b.label: b.disabled for b in at.button}
    assert buttons["Start"] is False and buttons["Stop"] is True and buttons["Pause"] is True
    # the finished epoch table is formatted like the live one, not raw field names
    table = next(
        t.value for t in at.dataframe if "epoch" in t.value.columns and "val loss" in t.value.columns
    )
    assert list(table.columns) == [
        "epoch",
        "loss",
        "pair accuracy (0.5)",
        "val loss",
        "val pair accuracy",
        "threshold",
        "training time",
    ]
    assert table.iloc[0]["val pair accuracy"].endswith("%") and table.iloc[0]["training time"].endswith(" s")
    assert any("Two thresholds" in c.value for c in at.caption)  # the accuracy chart says it mixes two


@pytest.mark.parametrize("page", ["pages/embeddings.py", "pages/compare.py", "pages/evaluate.py"])
def test_model_pages_render_with_the_pretrained_default(page):
    at = app(page)
    assert any("pretrained default" in i.value for i in at.info)


def test_your_own_symbols_starts_empty_and_refuses_an_unnamed_symbol():
    at = app("pages/oneshot.py")
    assert any("Nothing enrolled yet" in i.value for i in at.info)
    at.button(key="oneshot.enrol").click().run()
    assert not at.exception
    assert any("Not enrolled: Give the symbol a name first." in w.value for w in at.warning)
    assert at.session_state["oneshot.gallery"] == {}


def test_compare_with_test_digits_gives_a_verdict_and_a_blank_side_a_message():
    at = app("pages/compare.py")
    assert any("Draw a digit" in i.value for i in at.info)  # blank canvases: a message, no error
    at.radio(key="compare.mode.a").set_value("Test digit").run()
    at.radio(key="compare.mode.b").set_value("Test digit").run()
    assert not at.exception
    at.button(key="compare.same.b").click().run()
    a, b = at.session_state["compare.pick.a"], at.session_state["compare.pick.b"]
    assert a != b
    assert any("Same digit" in s.value for s in at.success) or any(
        "Different digits" in e.value for e in at.error
    )
    assert metric(at, "Threshold") == f"{_default_threshold():.4f}"
    assert any("euclidean distance" in c.value for c in at.caption)  # the default model's own distance


def _default_threshold():
    from siamese_core.network.persistence import DEFAULT_MODEL, read_meta

    return read_meta(DEFAULT_MODEL)["threshold"]


def test_evaluate_threshold_slider_changes_the_numbers():
    at = app("pages/evaluate.py")
    before = metric(at, "Accuracy")
    s = at.slider(key="eval.threshold")
    s.set_value(s.min).run()
    assert not at.exception
    assert metric(at, "Accuracy") != before
    assert metric(at, "Recall (same)") == "0.00%"
    assert metric(at, "Best on test")  # a short label that fits its column


def test_the_train_form_and_preset_survive_a_visit_to_another_page():
    at = app("pages/train.py")
    at.selectbox(key="train.preset").set_value("fast-mlp").run()
    at.number_input(key="train.epochs").set_value(3).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.selectbox(key="train.preset").value == "fast-mlp"
    assert form(at) == {**as_form(PRESETS["fast-mlp"].replace(seed=own_seed(at))), "epochs": 3}


def test_a_preset_on_home_resets_edited_fields():
    at = app("pages/train.py")
    at.selectbox(key="train.preset").set_value("cnn").run()
    at.number_input(key="train.epochs").set_value(3).run()
    at.switch_page("pages/home.py").run()
    at.button(key="home.preset.cnn").click().run()
    assert not at.exception
    assert form(at) == as_form(PRESETS["cnn"].replace(seed=own_seed(at)))


def test_lessons_page_composes_ranks_and_exports():
    at = app("pages/lessons.py")
    assert metric(at, "C's variables are A's and B's") == "yes"
    a, b = metric(at, "A (encoder)"), metric(at, "B (decoder)")
    assert int(metric(at, "C nested").replace(",", "")) == int(a.replace(",", "")) + int(b.replace(",", ""))
    assert not any(m.label == "SROCC" for m in at.metric)
    at.slider(key="lessons.ae_epochs").set_value(1).run()
    at.button(key="lessons.start.autoencoder").click().run()
    _wait_for_task(at, "autoencoder")
    _, runs = at.session_state["lessons.ae"]
    assert [name for name, _ in runs.ways()] == ["jointly", "separately (A frozen)"]
    assert runs.frozen.moved == 0.0 and runs.jointly.moved > 0.0
    at.session_state["lessons.tab"] = "Learning to rank (RankIQA)"
    at.run()
    at.slider(key="lessons.rank_steps").set_value(50).run()
    at.slider(key="lessons.rank_levels").set_value(3).run()
    at.button(key="lessons.start.rank").click().run()
    _wait_for_task(at, "rank")
    assert -1.0 <= at.session_state["lessons.rank"].srocc <= 1.0
    frames = [d.value for d in at.dataframe]
    assert any(f.values.tolist() == [[2, 0], [-1, 1], [-1, -1]] for f in frames)  # O for 3 levels
    batch = at.session_state["lessons.rank"].batch
    assert batch.scores.shape == (4, 3) and np.allclose(batch.hinge, np.maximum(0, 100.0 - batch.column_sums))
    assert any("Why the margin is 100" in m.value for m in at.markdown)
    assert not any("the table shows what the operator loss" in m.value for m in at.markdown)
    at.selectbox(key="lessons.rank_loss").set_value("pairwise").run()
    at.button(key="lessons.start.rank").click().run()
    _wait_for_task(at, "rank")
    assert at.session_state["lessons.rank"].loss == "pairwise"
    said = [m.value for m in at.markdown if "One batch after training" in m.value]
    assert len(said) == 1 and said[0].endswith(
        "This scorer trained with the pairwise loss: the table shows what the operator loss would make of "
        "the same scores."
    ), said
    at.session_state["lessons.tab"] = "Export, import, merge"
    at.run()
    caption = next(c.value for c in at.caption if "Merged model" in c.value)
    assert "`from_a/`" in caption and "`from_b/`" in caption


def test_every_lessons_tabs_settings_survive_a_visit_to_every_other_tab():
    """Only the open tab runs, and Streamlit dropped the closed tabs' widgets: a student back from
    another tab read the default settings above a result trained with theirs (an exploratory
    session). Every setting of every tab, changed from its default, then each other tab visited."""
    at = app("pages/lessons.py")
    labels = [t.label for t in at.tabs]
    assert len(labels) == 4, labels

    def settings():
        return {
            w.key: w.value
            for kind in (at.slider, at.selectbox, at.number_input, at.checkbox, at.toggle)
            for w in kind
            if str(w.key).startswith("lessons.")
        }

    changed_somewhere = 0
    every = {}
    for label in labels:
        at.session_state["lessons.tab"] = label
        at.run()
        for w in [*at.slider, *at.selectbox, *at.number_input, *at.checkbox, *at.toggle]:
            if not str(w.key).startswith("lessons."):
                continue
            if w.type == "slider":
                w.set_value(w.min if w.value != w.min else w.max)
            elif w.type == "selectbox":
                w.select_index((w.index + 1) % len(w.options))
            elif w.type == "number_input":
                w.set_value(w.value + (getattr(w, "step", None) or 1))
            else:
                w.set_value(not w.value)
        at.run()
        mine = settings()
        changed_somewhere += len(mine)
        for other in labels:
            if other != label:
                at.session_state["lessons.tab"] = other
                at.run()
        at.session_state["lessons.tab"] = label
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert settings() == mine, (label, mine, settings())
        every[label] = mine
    assert changed_somewhere >= 7  # the composing and ranking tabs' settings at least

    # A reload (a new session of the same browser) opens the last tab and every setting as left: a
    # reload found the student's last result (by the cookie) under the default settings.
    reloaded = app()  # the cookie brings only the id: it is put where student_id() keeps it
    reloaded.session_state["student.id"] = at.session_state["student.id"]
    reloaded.switch_page("pages/lessons.py").run()
    assert reloaded.session_state["lessons.tab"] == labels[-1]
    at = reloaded
    for label in labels:
        at.session_state["lessons.tab"] = label
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert settings() == every[label], (label, every[label], settings())
    other = app("pages/lessons.py")  # another student: the defaults, not this one's settings
    assert other.slider(key="lessons.ae_epochs").value == 3 != every[labels[0]]["lessons.ae_epochs"]


def test_an_older_tabs_rerun_keeps_its_own_changes_and_not_its_old_values_of_the_others():
    """Two tabs of one student on More lessons: each change is the student's, whichever tab made
    it. The page wrote every setting at the end of every run, so a click in the older tab wrote its
    old values back over the settings changed in the newer one (session 21's note), and a reload
    opened those."""
    ranking = "Learning to rank (RankIQA)"
    first = app("pages/lessons.py")
    first.session_state["lessons.tab"] = ranking
    first.run()
    first.number_input(key="lessons.rank_margin").set_value(3.0).run()
    student = first.session_state["student.id"]

    def tab():  # a new session of the same browser: a second tab, or a reload
        at = app()
        at.session_state["student.id"] = student
        at.switch_page("pages/lessons.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    second = tab()
    assert second.session_state["lessons.tab"] == ranking
    assert second.number_input(key="lessons.rank_margin").value == 3.0  # the first tab's change
    second.slider(key="lessons.rank_steps").set_value(450).run()
    first.slider(key="lessons.rank_levels").set_value(6).run()  # a click in the older tab
    assert first.slider(key="lessons.rank_steps").value == 250  # it still shows its own value

    reloaded = tab()
    assert reloaded.number_input(key="lessons.rank_margin").value == 3.0
    assert reloaded.slider(key="lessons.rank_steps").value == 450  # not the older tab's 250
    assert reloaded.slider(key="lessons.rank_levels").value == 6


def _wait_for_task(at, name):
    task = at.session_state[f"lessons.task.{name}"][1]
    assert task.join(TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_k_shot_experiment_runs_from_its_tab_and_its_sentence_reads_its_table():
    """Transfer learning's button, its worker task and its result: the table's rows and the
    sentence under the chart come from the same KShotRow values."""
    from siamese_core.lessons.transfer import k_shot_conclusion

    at = app("pages/lessons.py")
    at.session_state["lessons.tab"] = "Transfer learning"
    at.run()
    at.button(key="lessons.start.kshot").click().run()
    _wait_for_task(at, "kshot")
    rows = at.session_state["lessons.task.kshot"][1].snapshot().result
    assert [row.k for row in rows] == [1, 5, 10]
    table = next(d.value for d in at.dataframe if "from scratch" in d.value.columns)
    assert table["from scratch"].tolist() == [row.scratch for row in rows]
    assert any(k_shot_conclusion(rows) in c.value for c in at.caption)


def test_a_lesson_training_waits_in_line_when_every_worker_is_busy():
    """More lessons' trainings share the Train page's line: no refusal, a place and a wait."""
    from siamese_core.serving.mirrors import RemoteTask
    from siamese_ui.resources import worker_pool

    at = app("pages/lessons.py")
    pool = worker_pool()
    busy = [RemoteTask("nap", "tests.worker_jobs:nap", {"seconds": 60}) for _ in range(pool.size)]
    for job in busy:
        pool.submit(job)
    try:
        at.button(key="lessons.start.autoencoder").click().run()
        task = at.session_state["lessons.task.autoencoder"][1]
        assert task.snapshot().status.value == "queued"
        assert any(re.search(r"\d+(st|nd|rd|th) in line\*\*, (about|any)", i.value) for i in at.info), [
            i.value for i in at.info
        ]
        at.button(key="lessons.stop.autoencoder").click().run()
        assert task.snapshot().status.value == "stopped" and pool.place(task) is None
    finally:
        for job in busy:
            job.stop()
        for job in busy:
            job.join(TIMEOUT)


def test_two_sessions_train_at_once_and_keep_their_own_models():
    a, b = app("pages/train.py", TINY), app("pages/train.py", {**TINY, "train.seed": "7"})
    for at in (a, b):
        next(x for x in at.button if x.label == "Start").click().run()
    ja, jb = a.session_state["train.job"], b.session_state["train.job"]
    assert ja is not jb
    assert ja.join(TIMEOUT) and jb.join(TIMEOUT)
    a.run()
    b.run()
    ma, mb = a.session_state["model.active"], b.session_state["model.active"]
    assert ma.model is ja.model and mb.model is jb.model and ma.model is not mb.model
    # B's reset leaves A's model alone; both then compare digits without error
    next(x for x in b.button if x.label == "Reset").click().run()
    assert "model.active" not in b.session_state and a.session_state["model.active"].model is ja.model
    for at in (a, b):
        at.switch_page("pages/compare.py").run()
        at.radio(key="compare.mode.a").set_value("Test digit").run()
        at.radio(key="compare.mode.b").set_value("Test digit").run()
        assert not at.exception
    assert any("trained in this session" in s.value for s in a.success)
    assert any("pretrained default" in i.value for i in b.info)


def plotly_points(at, key: str) -> np.ndarray:
    chart = next(c for c in at.get("plotly_chart") if key in c.proto.id)
    spec = json.loads(chart.proto.spec)
    return np.concatenate(
        [np.c_[image_values(trace["x"]), image_values(trace["y"])] for trace in spec["data"]]
    )


def test_the_epoch_slider_moves_the_replay():
    """The old page computed the chosen epoch's projection and drew another epoch."""
    at = trained_app({"train.epochs": "2", "train.embedding_dim": "2"})
    at.switch_page("pages/embeddings.py").run()
    job = at.session_state["model.active"].job
    assert at.selectbox(key="emb.method").options == ["raw 2-D coordinates"]  # 2-D: nothing to project
    for epoch in (0, 2, 1):
        at.slider(key="emb.epoch").set_value(epoch).run()
        drawn = plotly_points(at, "emb.replay")
        expected = job.probe_snapshots[epoch][:, :2]
        assert sorted(map(tuple, np.round(drawn, 4))) == sorted(map(tuple, np.round(expected, 4)))
        assert any(c.value.startswith(f"Epoch {epoch}") for c in at.caption)


def test_neighbours_on_embeddings_use_the_models_cosine_distance():
    at = trained_app({"train.distance": "cosine", "train.margin": "0.5"})
    at.switch_page("pages/embeddings.py").run()
    assert any("by the model's own cosine distance" in m.value for m in at.markdown)
    at.number_input(key="emb.pick").set_value(5).run()
    assert any("Nearest neighbours of point 5" in m.value for m in at.markdown)
    at.switch_page("pages/compare.py").run()
    at.radio(key="compare.mode.a").set_value("Test digit").run()
    at.radio(key="compare.mode.b").set_value("Test digit").run()
    assert any("cosine distance" in c.value for c in at.caption)


def test_reruns_leave_keras_state_alone(monkeypatch):
    """Streamlit's end-of-run hook would call keras.backend.clear_session() (and a full gc)
    after every rerun, i.e. every second per student while a Train page is open."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    app()
    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    script_runner._clean_problem_modules()
    assert calls == []
    assert script_runner._clean_problem_modules.siamese_lab


def test_streamlit_config_has_the_classroom_settings():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    from siamese_core.network.persistence import MAX_MODEL_BYTES
    from siamese_core.network.preprocessing import MAX_UPLOAD_BYTES

    # the server admits exactly the largest file the app takes (a model), no more
    assert cfg["server"]["maxUploadSize"] == MAX_MODEL_BYTES // 2**20
    assert MAX_UPLOAD_BYTES < MAX_MODEL_BYTES
    assert cfg["client"]["showErrorDetails"] in ("type", "none", False)
    assert cfg["runner"]["postScriptGC"] is False and cfg["runner"]["magicEnabled"] is False


def test_no_student_facing_page_says_seed():
    """'Seed 000…004' is this project's name for its sources, not a student's word."""
    import re

    for page in (ROOT / "pages").glob("*.py"):
        text = page.read_text()
        assert not re.search(r"[Ss]eed 00\d", text), page.name


def test_the_data_set_cache_is_bounded(monkeypatch):
    """Every seed / held-out choice used to keep one more copy of a data set for the server's life."""
    import siamese_core.network.data
    from siamese_ui import resources

    loads = []
    real = siamese_core.network.data.load_dataset

    def counting(name, seed=0, held_out=(), val_size=5000, **kw):
        loads.append(seed)
        return real(name, seed, held_out, val_size=val_size, **kw)

    monkeypatch.setattr(siamese_core.network.data, "load_dataset", counting)
    resources.dataset.clear()
    for seed in range(resources.MAX_DATASETS + 1):
        resources.dataset("mnist-5k", seed)
    resources.dataset("mnist-5k", resources.MAX_DATASETS)  # the newest is still cached
    assert len(loads) == resources.MAX_DATASETS + 1
    resources.dataset("mnist-5k", 0)  # the oldest was dropped
    assert len(loads) == resources.MAX_DATASETS + 2
    resources.dataset.clear()


def _trace(at, key: str, prefix: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if key in c.proto.id)
    return next(t for t in json.loads(chart.proto.spec)["data"] if t.get("name", "").startswith(prefix))


def test_the_train_page_shows_the_loss_and_its_margin_moves_the_plot():
    from siamese_ui.loss_view import FORMULA

    at = app("pages/train.py")
    assert any(FORMULA in x.value for x in at.get("latex"))
    assert any("y = 1 means the same digit" in m.value for m in at.markdown)
    assert any("Hadsell, Chopra and LeCun (2006)" in c.value and "Y = 0" in c.value for c in at.caption)
    assert (
        list(image_values(_trace(at, "train.loss_plot", "margin")["x"])) == [PRESETS["classroom"].margin] * 2
    )
    at.number_input(key="train.margin").set_value(0.8).run()
    assert list(image_values(_trace(at, "train.loss_plot", "margin")["x"])) == pytest.approx([0.8, 0.8])


def test_evaluate_draws_the_models_margin_on_the_histogram():
    at = app("pages/evaluate.py")
    margin = at.session_state["model.active"].config.margin if "model.active" in at.session_state else None
    from siamese_ui.resources import default_model

    margin = margin or default_model()[2].margin
    line = _trace(at, "eval.hist", "margin m")
    assert list(image_values(line["x"])) == pytest.approx([margin, margin])


@pytest.mark.parametrize("page", [None, "pages/train.py", "pages/evaluate.py", "pages/about.py"])
def test_the_glossary_is_in_the_sidebar_of_every_page(page):
    from siamese_ui.glossary import GLOSSARY

    at = app(page)
    assert any(e.label == "Glossary" for e in at.sidebar.expander)
    text = " ".join(m.value for m in at.sidebar.markdown)
    for term in (
        "pair",
        "embedding",
        "distance",
        "margin",
        "threshold",
        "calibrated threshold",
        "ROC",
        "precision@1",
        "MAP@R",
    ):
        assert f"**{term}**" in text and term in GLOSSARY


def test_a_keras_example_run_shows_the_sources_own_result_beside_it():
    from siamese_core.config import SOURCE_RESULT

    at = app("pages/train.py", {**TINY, "train.pair_protocol": "keras-example"})
    next(x for x in at.button if x.label == "Start").click().run()
    job = at.session_state["train.job"]
    assert job.join(TIMEOUT)
    at.run()
    note = next(i.value for i in at.info if "The source example" in i.value)
    assert SOURCE_RESULT["quote"] in note and "val_accuracy: 0.9722" in note
    assert f"{100 * job.snapshot().result.test_pair_accuracy:.2f}% after 1 epoch," in note
    assert "settings that differ" in note  # a tiny run is not the example's setup
    at = app("pages/train.py", TINY)  # a balanced-pairs run: no comparison
    next(x for x in at.button if x.label == "Start").click().run()
    assert at.session_state["train.job"].join(TIMEOUT)
    at.run()
    assert not any("The source example" in i.value for i in at.info)


def test_every_train_control_says_what_it_does_to_the_loss_or_the_pairs():
    """TensorFlow Playground's habit: each control next to what it does. Every input widget and
    button of the Train page has a one-line help naming its effect on the loss or the pairs."""
    at = app("pages/train.py")
    form = [*at.selectbox, *at.number_input, *at.toggle, *at.multiselect]
    controls = [w for w in form if (w.key or "").startswith("train.")]  # not the sidebar's lesson switch
    controls += [
        b
        for b in at.button
        if b.label in {"Start", "Pause", "Resume", "Stop", "Reset"} or b.label.startswith("Step")
    ]
    assert len(controls) >= 26  # 21 configuration fields, the preset, five buttons
    for control in controls:
        text = control.help or ""
        assert text and "\n" not in text, (control.label, text)
        assert re.search(r"loss|pair", text, re.I), (control.label, text)


@pytest.mark.parametrize("shared", [True, False])
def test_inside_the_twins_on_compare(shared):
    """A shared model gives the same digit the same embedding through both branches (difference
    exactly 0); an unshared one does not, and the page's number is the core's."""
    from siamese_core.network.inspect import branch_embeddings
    from siamese_core.serving.protocol import encode
    from siamese_ui.resources import worker_pool
    from siamese_ui.session import MODEL, UPLOADED, ActiveModel

    at = app("pages/compare.py")
    if not shared:
        config = SiameseConfig(branch="tiny-cnn", embedding_dim=16, shared=False)
        model = build_siamese(config)
        ref = worker_pool().models.register(encode(model), "test")  # as an upload is: a handle
        at.session_state[MODEL] = ActiveModel(
            ref, 0.5, UPLOADED, config, name="two branches", handle=ref.handle
        )
    at.radio(key="compare.mode.a").set_value("Test digit").run()
    at.radio(key="compare.mode.b").set_value("Test digit").run()
    at.toggle(key="compare.twins").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    if shared:
        assert any("One branch, called twice" in m.value for m in at.markdown)
        assert any(
            "the largest difference between the two embeddings is **0**" in s.value for s in at.success
        )
        return
    assert any("Two branches" in m.value for m in at.markdown)
    computed = at.session_state["compare.twins_cache"]  # (model, side, digit bytes) -> activations
    digit_a = next(key[2] for key in computed if key[1] == 0)  # only digit A goes through branch A
    emb_a, emb_b = branch_embeddings(model, np.frombuffer(digit_a, dtype=np.uint8).reshape(28, 28))
    gap = float(np.max(np.abs(emb_a - emb_b)))
    assert gap > 0
    assert any(f"differ by up to **{gap:.4g}**" in w.value for w in at.warning), [w.value for w in at.warning]


def test_a_page_under_apptest_never_keeps_the_test_process_to_one_core():
    """The web server keeps to one core beside its pinned training processes (resources.worker_pool);
    AppTest runs the pages in the test's own process, which must keep every core it has."""
    import os

    from streamlit.testing.v1 import AppTest

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this system")
    before = os.sched_getaffinity(0)
    app()
    assert os.sched_getaffinity(0) == before

    def script():
        import streamlit as st

        from siamese_ui.resources import serving_for_real

        st.markdown(f"for real: {serving_for_real()}")

    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["for real: False"]
