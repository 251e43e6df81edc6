"""Compare in streamlit's AppTest: what the student gave each side, and the twins switch, are
as they left them after a visit to another page (issue 24, item 13). The browser test of the
same is tests/e2e/test_compare_return.py; this one is quick and names each kept input."""

from __future__ import annotations

from tests.helpers import STROKES, app, drawing


def distance(at) -> str:
    return next(m.value for m in at.metric if m.label == "Distance")


def test_drawings_the_verdict_and_the_twins_switch_survive_another_page():
    at = app("pages/compare.py")
    for side, symbol in (("a", "bar"), ("b", "vee")):  # the canvases send what the student drew
        generation = at.session_state[f"compare.canvas.{side}.generation"]
        at.session_state[f"compare.canvas.{side}.{generation}"] = drawing(STROKES[symbol])
    at.run()
    at.toggle(key="compare.twins").set_value(True).run()
    said = [s.value for s in (*at.success, *at.error) if "digit" in s.value]
    before = distance(at)
    at.switch_page("pages/evaluate.py").run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in (*at.success, *at.error) if "digit" in s.value] == said
    assert distance(at) == before
    assert at.toggle(key="compare.twins").value is True
    assert any("One branch, called twice" in m.value for m in at.markdown)
    # Clear empties that side only
    at.button(key="compare.clear.a").click().run()
    assert any("Draw a digit" in i.value for i in at.info) and not any("digit" in s.value for s in at.error)
    at.switch_page("pages/evaluate.py").run()
    at.switch_page("pages/compare.py").run()
    assert sum("Draw a digit" in i.value for i in at.info) == 1  # A is still empty, B still drawn


def test_a_test_digit_pick_and_the_input_mode_survive_another_page():
    at = app("pages/compare.py")
    at.radio(key="compare.mode.a").set_value("Test digit").run()
    at.radio(key="compare.mode.b").set_value("Upload").run()
    picked = at.session_state["compare.pick.a"]
    at.switch_page("pages/embeddings.py").run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="compare.mode.a").value == "Test digit"
    assert at.radio(key="compare.mode.b").value == "Upload"
    assert at.session_state["compare.pick.a"] == picked
    assert any(f"Test digit #{picked}:" in c.value for c in at.caption)


def test_every_digit_picture_has_alt_text_saying_what_it_shows():
    from siamese_ui.session import model_dataset, pretrained_model

    at = app("pages/compare.py")
    for side in ("a", "b"):
        at.radio(key=f"compare.mode.{side}").set_value("Test digit").run()
    alts = [image.alt for element in at.get("image") for image in element.proto.imgs]
    assert alts and all(alts), alts  # every picture, the neighbours' included
    y = model_dataset(pretrained_model()).test.y
    picked = at.session_state["compare.pick.a"]
    assert f"Digit {y[picked]} from the test set (number {picked}), 28x28 pixels." in alts


def test_a_reload_finds_the_students_model_on_the_page_it_opens():
    """A student trains twice, then reloads on Compare (a new session, the same student cookie):
    the model there is the one trained last, without a visit to Train first, and is called run 2,
    as in the first tab (the reload's own count restarted at 1); the other pages agree."""
    from siamese_core.jobs import Status
    from siamese_ui.session import TRAIN_JOB
    from siamese_ui.student import STUDENT
    from tests.helpers import TIMEOUT, TINY

    student = app("pages/train.py", TINY)
    for _ in range(2):
        next(b for b in student.button if b.label == "Start").click().run()
        job = student.session_state[TRAIN_JOB]
        assert job.join(TIMEOUT) and job.snapshot().status == Status.FINISHED
        student.run()  # the finished run becomes the student's model in this tab
    student.switch_page("pages/compare.py").run()
    assert any("trained in this session, run 2" in s.value for s in student.success), [
        s.value for s in student.success
    ]
    for page in ("pages/compare.py", "pages/evaluate.py", "pages/embeddings.py"):
        reloaded = app()  # the cookie brings only the id: it is put where student_id() keeps it
        reloaded.session_state[STUDENT] = student.session_state[STUDENT]
        reloaded.switch_page(page).run()
        assert not reloaded.exception, [e.value for e in reloaded.exception]
        banners = [s.value for s in reloaded.success if "Using the model" in s.value]
        assert banners and "trained in this session, run 2" in banners[0], (
            page,
            banners,
            [i.value for i in reloaded.info],
        )
