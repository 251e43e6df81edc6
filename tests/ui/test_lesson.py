"""The guided lesson in streamlit's AppTest: each step's box on its page, Next and Back to the right
page, the switch hides it everywhere, links carry it on or off, and the numbers a step cites are
the app's own (the core's parameter counts, the model's threshold, the session's finished run)."""

import re

from siamese_core.config import PRESETS, SiameseConfig
from siamese_core.network.models import build_siamese
from siamese_ui.lesson import LINK, ON, PAGE_FILES, PAGE_NAMES, STEPS, SWITCH, first_step_on
from tests.helpers import PAGE_TITLES, ROOT, TIMEOUT, TINY, app, box, click, move, open_class, shows_step

EVERY_PAGE = [f"pages/{p}.py" for p in (*PAGE_TITLES, "home", "oneshot", "teacher", "about")]


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


def test_a_try_that_sends_the_student_to_another_page_keeps_the_step():
    """Step 4's Try is the race on the Weight-sharing lab: there the box stays on step 4 (it used to
    jump back to step 2, and Train then showed step 3), and back on Train it is still step 4."""
    at = app("pages/train.py", {LINK: "4"})
    shows_step(at, 3)
    assert "weight_sharing" in STEPS[3].also_on
    at.switch_page("pages/weight_sharing.py").run()
    assert not at.exception and at.title[0].value == PAGE_TITLES["weight_sharing"]
    assert box(at)[0] == f"**Guided lesson · step 4 of {len(STEPS)} · {STEPS[3].title}**"
    at.switch_page("pages/train.py").run()
    shows_step(at, 3)


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


# ---- Next and Back leave a page whose linked widgets were moved (issue 24, item 1) ----------------


def test_next_and_back_leave_the_lab_after_sharing_and_n_were_moved():
    """Step 2's Try, done: st.switch_page refused while ws.n_inputs was in the address."""
    for button, k in (("lesson.next", 2), ("lesson.back", 0)):
        at = app("pages/weight_sharing.py", {LINK: "on"})
        shows_step(at, 1)
        move(at, at.toggle(key="ws.shared"), False)
        move(at, at.toggle(key="ws.shared"), True)
        move(at, at.slider(key="ws.n_inputs"), 5)
        assert at.query_params["ws.n_inputs"] == "5"
        click(at, button)
        shows_step(at, k)
        # the address holds what the new page shows: the lab's parameter went with the lab
        assert not [key for key in at.query_params if key.startswith("ws.")], at.query_params
        assert at.query_params[LINK] == str(k + 1)  # the lesson's own word travelled, at the new step


def test_next_and_back_leave_train_after_the_margin_was_changed():
    """Step 4's Try: change the margin, then Next (to Embeddings) and Back (to step 3)."""
    for button, k in (("lesson.next", 4), ("lesson.back", 2)):
        at = app("pages/train.py", {LINK: "on"})
        click(at, "lesson.next")
        shows_step(at, 3)
        move(at, at.number_input(key="train.margin"), 2.0)
        assert float(at.query_params["train.margin"]) == 2.0  # "2" or "2.0": the same link
        click(at, button)
        shows_step(at, k)
        if k == 2:  # still on Train: the margin stays, in the form and in the address
            assert at.number_input(key="train.margin").value == 2.0
            assert float(at.query_params["train.margin"]) == 2.0
        else:
            assert not [key for key in at.query_params if key.startswith("train.")], at.query_params


def test_next_and_back_leave_the_board_after_a_class_code_was_typed(board_path):
    code = open_class(board_path)
    at = app("pages/board.py", {LINK: "on"})
    shows_step(at, 7)
    move(at, at.text_input(key="board.class"), code)
    assert at.query_params["board.class"] == code and not at.error, [e.value for e in at.error]
    click(at, "lesson.back")
    shows_step(at, 6)
    assert "board.class" not in at.query_params
    click(at, "lesson.next")
    shows_step(at, 7)
    assert at.text_input(key="board.class").value == code  # the board kept the class the student typed


def test_a_reload_finds_the_lesson_on_at_the_same_step():
    """The address holds the step (?lesson=4), so a reload (a fresh session on the same address)
    opens the lesson where the student was, however it was switched on."""
    at = app()
    at.toggle(key=SWITCH).set_value(True).run()  # by hand, on Home (outside the lesson's pages)
    assert at.query_params[LINK] == "1"
    click(at, "lesson.resume")
    for k in (1, 2, 3):
        click(at, "lesson.next")
        shows_step(at, k)
        assert at.query_params[LINK] == str(k + 1)
    reloaded = app(None, dict(at.query_params))  # a reload opens Home first: the pointer says where
    assert any(f"step {k + 1} of {len(STEPS)}" in m.value for m in reloaded.markdown)
    reloaded = app(PAGE_FILES[STEPS[k].page], dict(at.query_params))
    shows_step(reloaded, k)
    # switched off by hand, the address forgets the lesson: a reload keeps it off
    reloaded.toggle(key=SWITCH).set_value(False).run()
    assert LINK not in reloaded.query_params
    assert box(app(PAGE_FILES[STEPS[k].page], dict(reloaded.query_params))) == []


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
    at = app("pages/train.py", {**TINY, LINK: "on"})
    click(at, "lesson.next")
    shows_step(at, 3)
    assert "once your run has finished" in box(at)[3]
    next(b for b in at.button if b.label == "Start").click().run()
    assert at.session_state["train.job"].join(TIMEOUT)
    at.run()
    result = at.session_state["train.job"].snapshot().result
    shows_step(at, 3)
    assert f"**{100 * result.test_pair_accuracy:.2f}%** of {result.test_pairs:,} test pairs" in box(at)[3]
    assert f"threshold {result.threshold:.3f}" in box(at)[3]


def test_the_teachers_guide_follows_the_lessons_steps_and_the_cores_counts():
    guide = (ROOT / "docs" / "teachers-guide.md").read_text()
    plan = re.findall(r"^\| [^|]+ \| (\d) · ([^|]+?) \| ([^|]+?) \|", guide, re.M)
    assert plan == [(str(k + 1), step.title, PAGE_NAMES[step.page]) for k, step in enumerate(STEPS)]
    for preset in ("classroom", "fast-mlp"):  # the parameter counts the guide quotes
        for shared in (True, False):
            count = build_siamese(PRESETS[preset].replace(shared=shared)).count_params()
            assert f"**{count:,}**" in guide, (preset, shared)
