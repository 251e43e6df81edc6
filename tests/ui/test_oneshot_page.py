"""Your own symbols in streamlit's AppTest: enrol drawn symbols, press Test me's Check with the
pretrained model and with models trained in this session, and read the score tables.

A drawing reaches the page the way the browser's canvas sends it: the component's value, a PNG
data URL, set under the canvas's key."""

from __future__ import annotations

from tests.helpers import STROKES, TIMEOUT, TINY, app, drawing


def draw(at, purpose: str, strokes) -> None:
    """Draw on the page's ``purpose`` canvas (enrol, query, quiz), then let the page rerun."""
    generation = at.session_state[f"oneshot.{purpose}.generation"]
    at.session_state[f"oneshot.{purpose}.{generation}"] = drawing(strokes)
    at.run()


def enrol(at, name: str) -> None:
    draw(at, "enrol", STROKES[name])
    at.text_input(key="oneshot.name").input(name).run()
    at.button(key="oneshot.enrol").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert name in at.session_state["oneshot.gallery"], [w.value for w in at.warning]


def check(at, target: str, drawn: str) -> None:
    """Test me asks for ``target``; the student draws ``drawn`` (the very strokes enrolled for
    it, so its nearest symbol is ``drawn`` by any model: its distance is the smallest there is)."""
    assert any(f"Draw **{target}**" in m.value for m in at.markdown), [m.value for m in at.markdown]
    draw(at, "quiz", STROKES[drawn])
    at.button(key="oneshot.check").click().run()
    assert not at.exception, [e.value for e in at.exception]


def scores(at) -> dict[str, tuple[str, list[list[int]]]]:
    """Each model's column: its heading -> (the your-drawings metric, the confusion table)."""
    headings = [
        m.value.strip("*") for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")
    ]
    metrics = [m.value for m in at.metric if m.label == "3-way one-shot, your drawings"]
    tables = [d.value.to_numpy().tolist() for d in at.dataframe]
    assert len(headings) >= len(metrics) == len(tables), (headings, metrics, tables)
    return dict(zip(headings[-len(metrics) :], zip(metrics, tables, strict=True), strict=True))


def train(at) -> None:
    """A tiny training on the Train page, in this session, then back to Your own symbols."""
    at.switch_page("pages/train.py")
    for key, value in TINY.items():
        at.query_params[key] = value
    at.run()
    next(b for b in at.button if b.label == "Start").click().run()
    assert at.session_state["train.job"].join(TIMEOUT)
    at.run()
    at.switch_page("pages/oneshot.py").run()
    assert not at.exception, [e.value for e in at.exception]


def test_test_me_scores_each_model_and_each_training_on_its_own():
    at = app("pages/oneshot.py")
    for name in ("bar", "dash", "vee"):
        enrol(at, name)
    # pretrained: bar drawn as bar, dash as dash, then vee asked but a dash drawn
    check(at, "bar", "bar")
    check(at, "dash", "dash")
    check(at, "vee", "dash")
    assert scores(at) == {"pretrained default": ("67%", [[1, 0, 0], [0, 1, 0], [0, 1, 0]])}  # 2 of 3

    train(at)  # run 1 becomes the session's model; the pretrained one keeps its score beside it
    check(at, "bar", "bar")  # the round goes on where it was: the 4th drawing asks for bar
    assert scores(at) == {
        "trained in this session, run 1": ("100%", [[1, 0, 0], [0, 0, 0], [0, 0, 0]]),
        "pretrained default": ("75%", [[2, 0, 0], [0, 1, 0], [0, 1, 0]]),  # 3 of 4
    }

    train(at)  # run 2 is a new model: its own score from zero; run 1's is not carried over
    check(at, "dash", "vee")
    assert scores(at) == {
        "trained in this session, run 2": ("0%", [[0, 0, 0], [0, 0, 1], [0, 0, 0]]),
        "pretrained default": ("60%", [[2, 0, 0], [0, 1, 1], [0, 1, 0]]),  # 3 of 5
    }
    quiz = at.session_state["oneshot.scores"]
    assert sorted(len(score.truths) for score in quiz.values()) == [1, 1, 5]  # run 1, run 2, pretrained


def test_each_enrolled_symbol_has_alt_text_saying_what_it_is():
    at = app("pages/oneshot.py")
    for name in ("bar", "dash"):
        enrol(at, name)
    alts = [image.alt for element in at.get("image") for image in element.proto.imgs]
    assert alts == [
        f"Your symbol {name} after preprocessing, as the network sees it: 28x28 pixels, white on black."
        for name in ("bar", "dash")
    ]


def test_a_reload_and_a_second_tab_find_the_gallery_and_the_score_another_student_does_not():
    """A reload emptied a gallery of four symbols and six scored drawings (an exploratory session).
    A new session of the same browser (the cookie's id) finds both; another student's is their own."""
    at = app("pages/oneshot.py")
    for name in ("bar", "dash"):
        enrol(at, name)
    check(at, "bar", "bar")
    student = at.session_state["student.id"]

    reloaded = app()  # the cookie brings only the id: it is put where student_id() keeps it
    reloaded.session_state["student.id"] = student
    reloaded.switch_page("pages/oneshot.py").run()
    assert not reloaded.exception, [e.value for e in reloaded.exception]
    assert list(reloaded.session_state["oneshot.gallery"]) == ["bar", "dash"]
    metrics = [m.value for m in reloaded.metric if m.label == "2-way one-shot, your drawings"]
    assert metrics == ["100%"], metrics  # the drawing scored before the reload
    check(reloaded, "dash", "dash")  # the round goes on where it was: the 2nd drawing asks for dash
    at.run()  # and the first tab shows it too
    assert [m.value for m in at.metric if m.label == "2-way one-shot, your drawings"] == ["100%"]
    assert sum(len(score.truths) for score in at.session_state["oneshot.scores"].values()) == 2

    other = app("pages/oneshot.py")  # another browser: another student, an empty gallery
    assert not other.session_state["oneshot.gallery"]
    assert any("Nothing enrolled yet" in i.value for i in other.info), [i.value for i in other.info]


def test_a_reload_keeps_each_pictures_draw_or_upload_choice_and_another_student_starts_on_draw():
    """After a reload the three Draw/Upload choices went back to Draw (session 20's verification
    round): a student who uploads (the keyboard's way in) had to choose Upload again each time."""
    at = app("pages/oneshot.py")
    for name in ("bar", "dash"):  # step 2 and Test me appear with two symbols
        enrol(at, name)
    for key in ("oneshot.source", "oneshot.source.query"):
        at.radio(key=key).set_value("Upload").run()
    assert not at.exception, [e.value for e in at.exception]
    student = at.session_state["student.id"]

    reloaded = app()
    reloaded.session_state["student.id"] = student
    reloaded.switch_page("pages/oneshot.py").run()
    assert not reloaded.exception, [e.value for e in reloaded.exception]
    assert reloaded.radio(key="oneshot.source").value == "Upload"
    assert reloaded.radio(key="oneshot.source.query").value == "Upload"
    assert reloaded.radio(key="oneshot.source.quiz").value == "Draw"  # the one left alone
    assert len(reloaded.get("file_uploader")) == 2  # the two uploaders drawn instead of canvases
    reloaded.radio(key="oneshot.source").set_value("Draw").run()  # and a change back is kept too
    again = app()
    again.session_state["student.id"] = student
    again.switch_page("pages/oneshot.py").run()
    assert again.radio(key="oneshot.source").value == "Draw"
    assert again.radio(key="oneshot.source.query").value == "Upload"

    at.run()  # the first tab, still on its old choices, reruns: it writes nothing back
    last = app()
    last.session_state["student.id"] = student
    last.switch_page("pages/oneshot.py").run()
    assert last.radio(key="oneshot.source").value == "Draw"  # the latest change, made in another tab

    other = app("pages/oneshot.py")  # another browser: its own choices, Draw to start with
    assert other.radio(key="oneshot.source").value == "Draw"
    assert not other.get("file_uploader")
