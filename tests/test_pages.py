"""Every page in streamlit's AppTest: renders, reacts to its widgets, no exception."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from siamese_core.config import SiameseConfig
from siamese_core.inspect import param_breakdown
from siamese_core.models import build_siamese

TIMEOUT = 180
ROOT = Path(__file__).resolve().parents[1]


def app(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_home_renders_and_names_the_data_set():
    at = app()
    assert "Siamese Lab" in at.title[0].value
    assert metric(at, "Data set in use") in ("Full MNIST", "MNIST 5k subset")
    assert metric(at, "Device").startswith(("CPU", "GPU"))


def test_sharing_switch_changes_counts_to_the_core_values():
    at = app("pages/weight_sharing.py")
    for shared in (True, False):
        at.toggle(key="ws.shared").set_value(shared).run()
        assert not at.exception
        expected = param_breakdown(build_siamese(SiameseConfig(shared=shared))).total
        assert metric(at, "Total parameters") == f"{expected:,}"
    at.selectbox(key="ws.branch").set_value("matchnet").run()
    at.selectbox(key="ws.head").set_value("matchnet").run()
    expected = build_siamese(SiameseConfig(branch="matchnet", head="matchnet", shared=False, embedding_dim=512)).count_params()
    assert metric(at, "Total parameters") == f"{expected:,}"
    assert any("Different embeddings" in w.value for w in at.warning)
    at.toggle(key="ws.shared").set_value(True).run()
    assert any("Identical embeddings" in s.value for s in at.success)


def test_seed_004_slider_reads_real_counts():
    at = app("pages/weight_sharing.py")
    at.slider(key="ws.n_inputs").set_value(3).run()
    assert metric(at, "Layers instantiated once (right)") == "7,425,475"
    assert metric(at, "Builder called per input (mistaken)") == f"{7_425_475 + 2 * 7_096_896:,}"


TINY = {"dataset": "mnist-5k", "epochs": "1", "pairs_per_epoch": "1024", "batch_size": "64",
        "branch": "mlp", "embedding_dim": "16", "optimizer": "adam"}


def test_query_string_sets_the_form_and_bad_values_are_noted():
    at = app("pages/train.py", {**TINY, "margin": "-5"})
    assert at.number_input(key="train.w.epochs").value == 1
    assert at.selectbox(key="train.w.dataset").value == "mnist-5k"
    assert any("margin" in w.value for w in at.warning)


def test_a_tiny_training_run_completes_and_fills_the_history():
    at = app("pages/train.py", TINY)
    at.button[0].click().run()  # Start
    job = at.session_state["train.job"]
    assert job.join(TIMEOUT)
    at.run()
    assert not at.exception
    assert job.status == "finished" and len(job.batches) == 16 and len(job.epochs) == 1
    active = at.session_state["model.active"]
    assert active.source == "trained in this session" and active.model is job.model
    assert any("Test pair accuracy" in s.value for s in at.success)
    panel = next(m.value for m in at.markdown if 'class="sl-live"' in m.value)  # the status block
    assert "Finished · epoch 1/1 · batch 16/16" in panel
    assert f">{100 * job.epochs[-1]['val_pair_accuracy']:.2f}%<" in panel


@pytest.mark.parametrize("page", ["pages/embeddings.py", "pages/compare.py", "pages/evaluate.py"])
def test_model_pages_render_with_the_pretrained_default(page):
    at = app(page)
    assert any("pretrained default" in i.value for i in at.info)


def test_compare_with_test_digits_gives_a_verdict_and_a_blank_side_a_message():
    at = app("pages/compare.py")
    assert any("Draw a digit" in i.value for i in at.info)  # blank canvases: a message, no error
    at.radio(key="compare.mode.a").set_value("Test digit").run()
    at.radio(key="compare.mode.b").set_value("Test digit").run()
    assert not at.exception
    at.button(key="compare.same.b").click().run()
    a, b = at.session_state["compare.pick.a"], at.session_state["compare.pick.b"]
    assert a != b
    assert any("Same digit" in s.value for s in at.success) or any("Different digits" in e.value for e in at.error)
    assert metric(at, "Threshold") == f"{at.session_state['model.active'].threshold if 'model.active' in at.session_state else _default_threshold():.4f}"


def _default_threshold():
    from siamese_core.persistence import DEFAULT_MODEL, read_meta

    return read_meta(DEFAULT_MODEL)["threshold"]


def test_evaluate_threshold_slider_changes_the_numbers():
    at = app("pages/evaluate.py")
    before = metric(at, "Accuracy")
    s = at.slider(key="eval.threshold")
    s.set_value(s.min).run()
    assert not at.exception
    assert metric(at, "Accuracy") != before
    assert metric(at, "Recall (same)") == "0.00%"


def test_the_train_form_survives_a_visit_to_another_page():
    at = app("pages/train.py", TINY)
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.number_input(key="train.w.epochs").value == 1
    assert at.number_input(key="train.w.embedding_dim").value == 16
    assert at.selectbox(key="train.w.dataset").value == "mnist-5k"


def test_lessons_page_composes_ranks_and_exports():
    at = app("pages/lessons.py")
    assert metric(at, "C's variables are A's and B's") == "yes"
    a, b = metric(at, "A (encoder)"), metric(at, "B (decoder)")
    assert int(metric(at, "C nested").replace(",", "")) == int(a.replace(",", "")) + int(b.replace(",", ""))
    at.slider(key="lessons.ae_epochs").set_value(1).run()
    at.button(key="lessons.ae_train").click().run()
    assert not at.exception and set(at.session_state["lessons.ae"]) == {"jointly", "separately (A frozen)"}
    assert at.session_state["lessons.ae"]["separately (A frozen)"]["moved"] == 0.0
    assert at.session_state["lessons.ae"]["jointly"]["moved"] > 0.0
    at.slider(key="lessons.rank_steps").set_value(50).run()
    at.slider(key="lessons.rank_levels").set_value(3).run()
    at.button(key="lessons.rank_train").click().run()
    assert not at.exception
    assert -1.0 <= at.session_state["lessons.rank"]["srocc"] <= 1.0
    assert any("Merged model" in c.value for c in at.caption)


def test_two_sessions_train_at_once_and_keep_their_own_models():
    a, b = app("pages/train.py", TINY), app("pages/train.py", {**TINY, "seed": "7"})
    a.button[0].click().run()
    b.button[0].click().run()
    ja, jb = a.session_state["train.job"], b.session_state["train.job"]
    assert ja is not jb and ja.alive or ja.join(0)
    assert ja.join(TIMEOUT) and jb.join(TIMEOUT)
    a.run()
    b.run()
    ma, mb = a.session_state["model.active"], b.session_state["model.active"]
    assert ma.model is ja.model and mb.model is jb.model and ma.model is not mb.model
    assert ja.status == jb.status == "finished"
    # B's reset leaves A's model alone; both then compare digits without error
    b.button[4].click().run()
    assert "model.active" not in b.session_state and a.session_state["model.active"].model is ja.model
    for at in (a, b):
        at.switch_page("pages/compare.py").run()
        at.radio(key="compare.mode.a").set_value("Test digit").run()
        at.radio(key="compare.mode.b").set_value("Test digit").run()
        assert not at.exception
    assert any("trained in this session" in s.value for s in a.success)
    assert any("pretrained default" in i.value for i in b.info)


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
    assert cfg["server"]["maxUploadSize"] <= 10
    assert cfg["client"]["showErrorDetails"] in ("type", "none", False)
    assert cfg["runner"]["postScriptGC"] is False and cfg["runner"]["magicEnabled"] is False
