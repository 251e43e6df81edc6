"""The lesson's state walk (issue 24): a student who does what every box says, and then moves every
control the address holds (``bind="query-params"``) away from its default, before pressing Next;
then Back from the last step to the first. No exception and no error box anywhere.

The controls are found from the page's own widgets (each one's ``query_param_key``), so a new
linked control on a lesson page is walked without a new line here. The browser writes a bound
widget's value into the address, which AppTest leaves undone: ``move`` does it (tests/helpers.py),
since that parameter is what made Next raise."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1.element_tree import Widget

from siamese_ui.lesson import LINK, STEPS
from tests.helpers import TIMEOUT, app, click, move, open_class, shows_step  # noqa: F401 (a fixture)

# What a student types into a linked text box (a free text has no "next value"); a new linked text
# box without a line here gets "abc", and if the page answers that with an error box, this walk
# says so: give it what a student would type.
TYPED: dict[str, str] = {}


def bound_widgets(at) -> list[Widget]:
    """Every widget on the page shown whose value the address holds, in the page's order."""
    return [
        node
        for root in (at.main, at.sidebar)
        for node in root
        if isinstance(node, Widget) and getattr(node.proto, "query_param_key", "")
    ]


def _option(text: str):
    """An option as the widget's value type: AppTest hands options over as their labels."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def another_value(widget):
    """A valid value other than the widget's own: the toggle flipped, the next option, one step
    up (down at the top), one more choice."""
    kind = type(widget).__name__
    value = widget.value
    if kind in ("Toggle", "Checkbox"):
        return not value
    if kind in ("Selectbox", "Radio", "SelectSlider"):
        options = [_option(o) for o in widget.options]
        return options[(options.index(value) + 1) % len(options)]
    if kind == "Multiselect":
        free = [_option(o) for o in widget.options if _option(o) not in value]
        return value + free[:1] if len(value) < (widget.max_selections or len(widget.options)) else value[:-1]
    if kind in ("Slider", "NumberInput"):
        step = widget.step or 1
        high = widget.max if widget.max is not None else value + step
        return value + step if value + step <= high else value - step
    if kind == "TextInput":
        return TYPED.get(widget.key, "abc")
    raise AssertionError(f"the walk does not know how to move a {kind} ({widget.key}): teach another_value")


def move_every_bound_widget(at) -> list[str]:
    """Each linked control on the page set away from its default, one after the other (a control
    may add or remove others: they are looked up again after each move). Returns their keys."""
    moved: list[str] = []
    while remaining := [w for w in bound_widgets(at) if w.key not in moved]:
        widget = remaining[0]
        moved.append(widget.key)
        if widget.disabled:
            continue
        before = widget.value
        move(at, widget, another_value(widget))
        no_error_box(at, widget.key)
        if widget.key in SWITCHED_BACK:
            move(at, next(w for w in bound_widgets(at) if w.key == widget.key), before)
            no_error_box(at, widget.key)
    return moved


# Linked controls the walk turns back after moving them, and why: the lesson needs them as they were.
SWITCHED_BACK = {
    "board.projector": "the projector view is the teacher's: the board alone, no lesson box, no title",
}


# Compare draws its verdict "Different digits" in an st.error box: a result, not an error
VERDICTS = ("### Different digits",)


def no_error_box(at, where) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    errors = [e.value for e in at.error if not e.value.startswith(VERDICTS)]
    assert not errors, (where, errors)


def wait_for(at, done, what: str) -> None:
    end = time.time() + TIMEOUT
    while not done():
        assert time.time() < end, f"{what} did not finish in {TIMEOUT} s"
        time.sleep(2)
        at.run()


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


# ---- each step's Try, as its box says --------------------------------------------------------------
def try_compare(at) -> None:
    """Under both digits pick Test digit, then Same class and Other class."""
    for side in ("a", "b"):
        at.radio(key=f"compare.mode.{side}").set_value("Test digit").run()
        click(at, f"compare.same.{side}")
        click(at, f"compare.diff.{side}")


def try_weight_sharing(at) -> None:
    """Sharing off and on; then Number of inputs N moved."""
    shared = at.toggle(key="ws.shared")
    move(at, shared, False, default=True)
    move(at, at.toggle(key="ws.shared"), True, default=True)
    move(at, at.slider(key="ws.n_inputs"), at.slider(key="ws.n_inputs").value + 2)


def try_train(at) -> None:
    """Keep the classroom preset and press Start; open What the margin does (AppTest draws every
    expander open) while it runs, and wait for the end: the next step's notice reads the run."""
    assert at.selectbox(key="train.preset").value == "classroom"
    button(at, "Start").click().run()
    job = at.session_state["train.job"]
    assert job.join(TIMEOUT), "the classroom run did not finish"
    at.run()


def try_read_the_result(at) -> None:
    """Change the margin (training again is the same Start as the step before)."""
    margin = at.number_input(key="train.margin")
    move(at, margin, margin.value + 0.5)


def try_embeddings(at) -> None:
    """Move the Epoch slider back to 0."""
    at.slider(key="emb.epoch").set_value(0).run()


def try_evaluate(at) -> None:
    """Move the Threshold slider across the histograms."""
    slider = at.slider(key="eval.threshold")
    for value in (slider.min, slider.max, (slider.min + slider.max) / 2):
        at.slider(key="eval.threshold").set_value(value).run()
        no_error_box(at, value)


def try_lessons(at) -> None:
    """Open Learning to rank (RankIQA) and train it; then Transfer learning."""
    at.session_state["lessons.tab"] = "Learning to rank (RankIQA)"
    at.run()
    button(at, "Train the scorer").click().run()
    wait_for(at, lambda: not any(b.label == "Stop" for b in at.button), "the RankIQA training")
    at.session_state["lessons.tab"] = "Transfer learning"
    at.run()


def try_board(at, code: str) -> None:
    """Type the teacher's class code, join with a nickname, and Post the finished run."""
    move(at, at.text_input(key="board.class"), code)
    next(t for t in at.text_input if t.label == "Your nickname").set_value("Ada")
    next(b for b in at.button if b.label == "Join the class").click().run()
    no_error_box(at, "join")
    button(at, "Post").click().run()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # eight pages, two trainings and ~40 moved controls, on a shared machine
def test_the_whole_lesson_with_every_try_done_and_every_linked_control_moved(board_path):
    code = open_class(board_path)
    TYPED["board.class"] = code  # the class code box: a real class, as the teacher's code is
    tries = {
        0: try_compare,
        1: try_weight_sharing,
        2: try_train,
        3: try_read_the_result,
        4: try_embeddings,
        5: try_evaluate,
        6: try_lessons,
        7: lambda at: try_board(at, code),
    }
    assert sorted(tries) == list(range(len(STEPS)))  # a new step gets its Try here
    at = app(None, {LINK: "on"})
    at.default_timeout = 3 * TIMEOUT  # one run of a page on a loaded machine (seen: over 180 s)
    click(at, "lesson.start")
    walked: dict[int, list[str]] = {}
    for k in range(len(STEPS)):
        shows_step(at, k)
        tries[k](at)
        no_error_box(at, f"step {k + 1}'s Try")
        shows_step(at, k)
        walked[k] = move_every_bound_widget(at)
        print(f"step {k + 1}: Try done, linked controls moved: {walked[k]}")  # shown if it fails
        shows_step(at, k)
        if k < len(STEPS) - 1:
            click(at, "lesson.next")
    for k in reversed(range(len(STEPS) - 1)):
        click(at, "lesson.back")
        shows_step(at, k)
        no_error_box(at, f"Back to step {k + 1}")
    # the walk did reach the linked controls of the lesson's pages (a page losing its links, or
    # the walk losing sight of them, fails here rather than passing quietly)
    assert {"ws.shared", "ws.n_inputs"} <= set(walked[1])
    assert {"train.preset", "train.margin"} <= set(walked[2]) and "board.class" in walked[7]
