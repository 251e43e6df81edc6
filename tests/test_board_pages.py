"""The Class board and Teacher pages in AppTest: a teacher opens a class, a student joins it
and posts a run trained in their session (its real numbers), the teacher removes it, and stops
a running training; a database that cannot be reached. The PIN: tests/test_teacher_page.py."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from siamese_core.board import Board
from tests.test_pages import TIMEOUT, TINY, app

PIN = "4711-tuesday"


@pytest.fixture(autouse=True)
def board_file(tmp_path, monkeypatch):
    """Each test its own SQLite board, and no PIN unless it sets one."""
    path = tmp_path / "board.sqlite"
    monkeypatch.setenv("SIAMESE_LAB_BOARD_PATH", str(path))
    monkeypatch.delenv("SIAMESE_LAB_BOARD_URL", raising=False)
    monkeypatch.delenv("SIAMESE_LAB_TEACHER_PIN", raising=False)
    from siamese_ui.teacher_auth import pin_throttle, teacher_tokens

    pin_throttle.clear()  # server-wide: fresh ones per test
    teacher_tokens.clear()
    return path


def unlocked_teacher(monkeypatch):
    monkeypatch.setenv("SIAMESE_LAB_TEACHER_PIN", PIN)
    at = app("pages/teacher.py")
    at.text_input[0].set_value(PIN)
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_without_a_pin_the_teacher_page_unlocks_nothing_and_says_how():
    at = app("pages/teacher.py")
    assert any("no teacher PIN is set" in w for w in texts(at.warning))
    assert any("SIAMESE_LAB_TEACHER_PIN" in m for m in texts(at.markdown))
    assert not at.text_input and not at.button  # no PIN box, no class controls


def test_a_class_from_opening_to_a_removed_entry(monkeypatch, board_file):
    from siamese_core.jobs import Status

    teacher = unlocked_teacher(monkeypatch)
    teacher.text_input[0].set_value("Year 12 <Tuesday>")
    next(b for b in teacher.button if b.label == "Open a class").click().run()
    code = teacher.session_state["teacher.class"]
    assert any(code in s and r"Year 12 \<Tuesday\>" in s for s in texts(teacher.success))
    assert any(f"?board.class={code}" in m for m in texts(teacher.markdown))  # the link carries the code

    # a student trains, then opens the teacher's link and joins under a nickname with markup in it
    student = app("pages/train.py", TINY)
    next(b for b in student.button if b.label == "Start").click().run()
    job = student.session_state["train.job"]
    assert job.join(TIMEOUT)
    student.run()
    assert job.snapshot().status == Status.FINISHED
    student.query_params["board.class"] = code
    student.switch_page("pages/board.py").run()
    assert not student.exception, texts(student.exception)
    post = next(b for b in student.button if b.label == "Post")
    assert post.disabled  # not a member yet
    student.text_input(key="board.class").set_value(code)
    nickname_box = next(t for t in student.text_input if t.label == "Your nickname")
    nickname_box.set_value("<b>Ada</b>")
    next(b for b in student.button if b.label == "Join the class").click().run()
    # shown as typed, never as markup: every Markdown and HTML character escaped
    assert any(r"as **\<b\>Ada\</b\>**" in s for s in texts(student.success)), texts(student.success)
    next(b for b in student.button if b.label == "Post").click().run()
    assert not student.exception, texts(student.exception)

    # what landed is the session's own run, number for number
    store = Board(sa.create_engine(f"sqlite:///{board_file}"))
    (entry,) = store.entries(code)
    assert entry.nickname == "<b>Ada</b>" and entry.shared is True
    assert entry.test_accuracy == job.report.accuracy and entry.auc == job.report.auc
    assert entry.parameters == job.model.count_params()
    assert entry.train_seconds == job.snapshot().result["train_seconds"] and entry.dataset == "mnist-5k"
    assert not [b for b in student.button if b.label == "Post"]  # once per run: the button is gone
    # the board's hover shows the nickname escaped
    figure = json.loads(student.get("plotly_chart")[0].proto.spec)
    assert figure["data"][0]["customdata"][0][0] == "&lt;b&gt;Ada&lt;/b&gt;"
    assert any(row == "<b>Ada</b>" for row in student.dataframe[0].value["nickname"])  # a table cell is text

    # the teacher sees it and removes it; the student's board is empty again
    teacher.run()
    assert "#" in teacher.selectbox(key="teacher.entry").format_func(entry.id)
    next(b for b in teacher.button if b.label == "Remove").click().run()
    assert store.entries(code) == []
    student.run()
    assert any("No runs on this board yet" in i for i in texts(student.info))


def test_a_training_that_is_not_finished_cannot_be_posted():
    student = app("pages/train.py", TINY)
    next(b for b in student.button if b.label == "Step (1 batch)").click().run()
    job = student.session_state["train.job"]
    try:
        student.switch_page("pages/board.py").run()
        assert any("Nothing to post yet" in i for i in texts(student.info))
        assert not [b for b in student.button if b.label == "Post"]
    finally:
        job.stop()
        job.join(TIMEOUT)


def test_the_teacher_sees_the_queue_with_nicknames_and_stops_a_run(monkeypatch):
    teacher = unlocked_teacher(monkeypatch)
    teacher.text_input[0].set_value("Queue class")
    next(b for b in teacher.button if b.label == "Open a class").click().run()
    code = teacher.session_state["teacher.class"]
    student = app("pages/train.py", TINY)
    student.query_params["board.class"] = code
    student.switch_page("pages/board.py").run()
    next(t for t in student.text_input if t.label == "Your nickname").set_value("Grace")
    next(b for b in student.button if b.label == "Join the class").click().run()
    student.switch_page("pages/train.py").run()
    next(b for b in student.button if b.label == "Step (1 batch)").click().run()  # paused after a batch
    job = student.session_state["train.job"]
    try:
        teacher.run()
        lines = [m for m in texts(teacher.markdown) if "· training ·" in m]
        assert any("Grace" in line for line in lines), lines
        assert lines[0].startswith("**running**")
        stop = next(b for b in teacher.button if b.key == f"teacher.stop.{job.id}")
        stop.click().run()
        # at once: listed as stopping (it ends its batch and test evaluation first), not running
        (line,) = [m for m in texts(teacher.markdown) if "· training ·" in m]
        assert line.startswith("**stopping**") and "Grace" in line, line
        assert "1 stopping" in teacher.subheader[-1].value, teacher.subheader[-1].value
        assert teacher.button(key=f"teacher.stop.{job.id}").disabled
        assert job.join(TIMEOUT)
        assert job.snapshot().status.ended
        # the student's Train page says who stopped it
        student.run()
        assert any(w.startswith("Stopped (stopped by the teacher).") for w in texts(student.warning)), texts(
            student.warning
        )
        teacher.run()
        assert not [m for m in texts(teacher.markdown) if "· training ·" in m]  # gone from the list
        assert {m.label for m in teacher.metric} == {
            "Memory: web server + workers",
            "Machine memory in use",
            "CPU (all cores)",
        }
    finally:
        job.stop()
        job.join(TIMEOUT)


def test_an_unreachable_database_says_so_and_the_other_pages_work(monkeypatch):
    monkeypatch.setenv(
        "SIAMESE_LAB_BOARD_URL", "postgresql+psycopg://postgres@127.0.0.1:1/board?connect_timeout=2"
    )
    at = app("pages/board.py")
    assert any("The class board is unavailable: the database cannot be reached" in e for e in texts(at.error))
    for page in ("pages/train.py", "pages/compare.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, texts(at.exception), texts(at.error))
    monkeypatch.setenv("SIAMESE_LAB_TEACHER_PIN", PIN)
    at.switch_page("pages/teacher.py").run()
    at.text_input[0].set_value(PIN)
    at.button[0].click().run()
    assert any("cannot be reached" in e for e in texts(at.error))
    assert any(s.startswith("Trainings:") for s in texts(at.subheader))  # the queue still shows


def test_student_text_is_escaped_for_markdown():
    from siamese_ui.board import md_text

    assert md_text("Ada Lovelace 12") == "Ada Lovelace 12"
    assert md_text("<b>*x*</b> $1$ :red[y] [l](u)") == (r"\<b\>\*x\*\</b\> \$1\$ \:red\[y\] \[l\]\(u\)")
