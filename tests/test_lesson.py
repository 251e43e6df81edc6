"""The guided lesson in streamlit's AppTest: each step's box on its page, Next and Back to the right
page, the switch hides it everywhere, links carry it on or off, and the numbers a step cites are
the app's own (the core's parameter counts, the model's threshold, the session's finished run)."""

import re

from siamese_core.config import PRESETS, SiameseConfig
from siamese_core.models import build_siamese
from siamese_ui.lesson import LINK, ON, PAGE_FILES, PAGE_NAMES, STEPS, SWITCH, first_step_on
from tests.test_pages import ROOT, TIMEOUT, app

PAGE_TITLES = {  # each page's st.title, as a student reads it
    "compare": "Compare two digits",
    "weight_sharing": "Weight-sharing lab",
    "train": "Train",
    "embeddings": "Embeddings",
    "evaluate": "Evaluate",
    "lessons": "More lessons",
    "board": "Class board",
}
EVERY_PAGE = [f"pages/{p}.py" for p in (*PAGE_TITLES, "home", "oneshot", "teacher", "about")]


def box(at) -> list[str]:
    """The lesson box's lines on the page shown ([] when there is no box)."""
    lines = [m.value for m in at.markdown]
    heads = [k for k, line in enumerate(lines) if line.startswith("**Guided lesson · step")]
    return lines[heads[0] : heads[0] + 4] if heads and "Predict" in lines[heads[0] + 1] else []


def shows_step(at, k: int) -> None:
    step = STEPS[k]
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == PAGE_TITLES[step.page]
    head, predict, try_, notice = box(at)
    assert head == f"**Guided lesson · step {k + 1} of {len(STEPS)} · {step.title}**"
    assert step.predict in predict and step.try_ in try_ and notice.startswith(":material/visibility:")


def click(at, key: str) -> None:
    next(b for b in at.button if b.key == key).click().run()


def test_the_lesson_starts_on_home_and_next_then_back_walk_every_step():
    at = app()
    assert box(at) == [] and at.session_state[ON] is False  # off on a first visit
    click(at, "lesson.start")
    shows_step(at, 0)
    assert not any(b.key == "lesson.back" for b in at.button)  # nothing before the first step
    for k in range(1, len(STEPS)):
        click(at, "lesson.next")
        shows_step(at, k)
    assert not any(b.key == "lesson.next" for b in at.button)
    for k in reversed(range(len(STEPS) - 1)):
        click(at, "lesson.back")
        shows_step(at, k)


def test_finish_ends_the_lesson_and_the_switch_brings_it_back():
    at = app(PAGE_FILES[STEPS[-1].page], {LINK: "on"})
    shows_step(at, len(STEPS) - 1)
    click(at, "lesson.finish")
    assert at.session_state[ON] is False and box(at) == []
    at.toggle(key=SWITCH).set_value(True).run()
    shows_step(at, len(STEPS) - 1)


def test_each_page_of_the_lesson_shows_its_own_first_step():
    """A student who takes the sidebar instead of Next: the lesson follows to that page's step."""
    at = app(None, {LINK: "on"})
    for k, step in enumerate(STEPS):
        if k != first_step_on(step.page):
            continue  # a page's later steps are reached with Next (tested above)
        at.switch_page(f"pages/{step.page}.py").run()
        shows_step(at, k)


def test_a_page_outside_the_lesson_points_back_to_the_step():
    at = app("pages/weight_sharing.py", {LINK: "on"})
    shows_step(at, 1)
    at.switch_page("pages/about.py").run()
    assert any("step 2 of" in m.value and "**Weight-sharing lab**" in m.value for m in at.markdown)
    click(at, "lesson.resume")
    shows_step(at, 1)


def test_switching_the_lesson_off_hides_the_box_on_every_page():
    at = app("pages/compare.py", {LINK: "on"})
    shows_step(at, 0)
    at.toggle(key=SWITCH).set_value(False).run()
    for page in EVERY_PAGE:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert box(at) == [] and not any("Guided lesson · step" in m.value for m in at.markdown), page
        assert at.toggle(key=SWITCH).value is False


def test_links_carry_the_lesson_off_or_on():
    # a Train link (a preset, no lesson word) and a link with ?lesson=off open without the box
    for query in ({"train.preset": "fast-mlp"}, {"train.preset": "fast-mlp", LINK: "off"}):
        at = app("pages/train.py", query)
        assert box(at) == [] and at.session_state[ON] is False
        assert at.selectbox(key="train.preset").value == "fast-mlp"  # the link's own state kept
    at = app("pages/train.py", {"train.preset": "fast-mlp", LINK: "on"})
    shows_step(at, 2)
    assert at.selectbox(key="train.preset").value == "fast-mlp"
    # switched off by hand, the lesson stays off though the address still says "on"
    at.toggle(key=SWITCH).set_value(False).run()
    at.switch_page("pages/compare.py").run()
    assert box(at) == []


def test_homes_preset_buttons_still_switch_pages_with_the_lesson_on():
    """A switch bound to the address (bind="query-params") made every st.switch_page raise while
    it was on: Home's preset buttons and Next included."""
    at = app(None, {LINK: "on"})
    click(at, "home.preset.cnn")
    shows_step(at, 2)
    assert at.selectbox(key="train.preset").value == "cnn"


def test_weight_sharing_notice_cites_the_cores_parameter_counts():
    at = app("pages/weight_sharing.py", {LINK: "on"})
    notice = box(at)[3]
    lab = dict(branch="mlp", head="distance", embedding_dim=128)  # the lab's defaults
    shared = build_siamese(SiameseConfig(shared=True, **lab)).count_params()
    unshared = build_siamese(SiameseConfig(shared=False, **lab)).count_params()
    assert unshared == 2 * shared  # a distance head has no weights: two branches, twice the count
    assert f"**{unshared:,}** parameters against **{shared:,}** for one (×2.0)" in notice


def test_compare_notice_cites_the_models_threshold():
    """No training in this session: the pretrained model's threshold, from its saved metadata."""
    from siamese_ui.resources import default_model

    at = app("pages/compare.py", {LINK: "on"})
    assert f"below **{float(default_model()[1]['threshold']):.3f}**" in box(at)[3]


def test_train_notice_reads_the_sessions_finished_run():
    tiny = {
        "train.dataset": "mnist-5k",
        "train.epochs": "1",
        "train.pairs_per_epoch": "1024",
        "train.batch_size": "64",
        "train.branch": "mlp",
        "train.embedding_dim": "16",
        LINK: "on",
    }
    at = app("pages/train.py", tiny)
    click(at, "lesson.next")
    shows_step(at, 3)
    assert "once your run has finished" in box(at)[3]
    next(b for b in at.button if b.label == "Start").click().run()
    assert at.session_state["train.job"].join(TIMEOUT)
    at.run()
    result = at.session_state["train.job"].snapshot().result
    shows_step(at, 3)
    assert (
        f"**{100 * result['test_pair_accuracy']:.2f}%** of {result['test_pairs']:,} test pairs" in box(at)[3]
    )
    assert f"threshold {result['threshold']:.3f}" in box(at)[3]


def test_the_teachers_guide_follows_the_lessons_steps_and_the_cores_counts():
    guide = (ROOT / "docs" / "teachers-guide.md").read_text()
    plan = re.findall(r"^\| [^|]+ \| (\d) · ([^|]+?) \| ([^|]+?) \|", guide, re.M)
    assert plan == [(str(k + 1), step.title, PAGE_NAMES[step.page]) for k, step in enumerate(STEPS)]
    for preset in ("classroom", "fast-mlp"):  # the parameter counts the guide quotes
        for shared in (True, False):
            count = build_siamese(PRESETS[preset].replace(shared=shared)).count_params()
            assert f"**{count:,}**" in guide, (preset, shared)
