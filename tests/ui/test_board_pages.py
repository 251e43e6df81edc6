"""The Class board and Teacher pages in AppTest: a teacher opens a class, a student joins it
and posts a run trained in their session (its real numbers), the teacher removes it, and stops
a running training; a database that cannot be reached. The PIN: tests/ui/test_teacher_page.py."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from siamese_core.serving.board import Board, Posted
from tests.helpers import TIMEOUT, TINY, app, finished_student, keras_model

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

    teacher = unlocked_teacher(monkeypatch)
    teacher.text_input[0].set_value("Year 12 <Tuesday>")
    next(b for b in teacher.button if b.label == "Open a class").click().run()
    code = teacher.session_state["teacher.class"]
    assert any(code in s and r"Year 12 \<Tuesday\>" in s for s in texts(teacher.success))
    assert any(f"?board.class={code}" in m for m in texts(teacher.markdown))  # the link carries the code

    # a student trains, then opens the teacher's link and joins under a nickname with markup in it
    student, job = finished_student()
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
    assert entry.parameters == keras_model(job.model).count_params()  # read off the model itself
    assert entry.train_seconds == job.snapshot().result.train_seconds and entry.dataset == "mnist-5k"
    assert not [b for b in student.button if b.label == "Post"]  # once per run: the button is gone
    # the board's hover shows the nickname escaped
    figure = json.loads(student.get("plotly_chart")[0].proto.spec)
    hover = figure["data"][0]["customdata"][0][0]  # the nickname in bold, then the setup
    assert hover.startswith("<b>&lt;b&gt;Ada&lt;/b&gt;</b> · "), hover
    assert "<b>Ada</b>" not in hover
    assert any(row == "<b>Ada</b>" for row in student.dataframe[0].value["nickname"])  # a table cell is text

    # the teacher sees it and removes it; the student's board is empty again
    teacher.run()
    assert "#" in teacher.selectbox(key="teacher.entry").format_func(entry.id)
    next(b for b in teacher.button if b.label == "Remove").click().run()
    assert store.entries(code) == []
    student.run()
    assert any("No runs on this board yet" in i for i in texts(student.info))
    # the student's run says it was removed, not that it is on the board, and cannot come back
    assert any("removed by the teacher from this board" in m for m in texts(student.markdown))
    assert not any("on this board" in m and "removed" not in m for m in texts(student.markdown))
    assert not [b for b in student.button if b.label == "Post"]


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
        # the memory figure's parts, process by process, add up to it (each rounded to a MB)
        memory = next(m for m in teacher.metric if m.label == "Memory: web server + workers")
        parts = [float(x.replace(",", "")) for x in re.findall(r"([\d,]+) MB", memory.proto.help)]
        total = float(memory.value.replace(",", "").removesuffix(" MB"))
        assert len(parts) >= 2 and abs(sum(parts) - total) <= len(parts) / 2, (memory.proto.help, total)
        assert memory.proto.help.startswith(
            "Proportional set size (PSS), shared pages counted once: web server"
        )
        assert "model process " in memory.proto.help
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


# ---- the board's numbers and plot (issue 24: items 3, 4, 5, 11, 12) ------------------------------------
def entry(k: int, nickname: str, setup: str, shared: bool, parameters: int, accuracy: float, student=None):
    from siamese_core.serving.board import Entry

    return Entry(
        k,
        "K7QX2M",
        nickname,
        student or nickname,
        setup,
        shared,
        parameters,
        accuracy,
        0.998,
        30.0,
        "mnist",
        "Train page",
        0.0,
    )


# Two classroom runs (tiny CNN, shared) and a race's two sides (MLP): the projector.
CLASS_MIX = [
    entry(1, "Ada", "classroom", True, 111_712, 0.9809),
    entry(2, "Bo", "classroom", True, 111_712, 0.9809),
    entry(3, "Cy", "classroom · branch mlp", True, 121_120, 0.9595),
    entry(4, "Cy", "classroom · branch mlp", False, 242_240, 0.9133),
]


def test_the_headline_compares_sharing_within_a_setup_never_across():
    """Across setups the old sentence said "+6.76 points for sharing, with 2.17x the parameters":
    median(98.09, 98.09, 95.95) - 91.33 and 242,240 / 111,712, a tiny CNN against an MLP. Within
    the one setup that has both: 95.95 - 91.33 = +4.62 points and 242,240 / 121,120 = 2.00x."""
    from siamese_ui.board import gap_table, shown_gaps, summary_sentence

    assert summary_sentence(CLASS_MIX) == (
        "4 runs from 3 students, 2 setups. One setup has both shared and unshared runs (classroom · branch "
        "mlp): there, the median test pair accuracy is 95.95% shared and 91.33% unshared (+4.62 points for "
        "sharing), and the unshared network has 2.00× the parameters."
    )
    assert gap_table(shown_gaps(CLASS_MIX)) == [
        {
            "setup": "classroom · branch mlp",
            "shared median (%)": 95.95,
            "unshared median (%)": 91.33,
            "sharing gives (points)": 4.62,
            "parameters unshared ÷ shared": 2.0,
            "runs (shared + unshared)": "1 + 1",
        }
    ]
    # a second setup with both: each compared with itself; shared ahead in one of the two
    more = [*CLASS_MIX, entry(5, "Di", "classroom", False, 223_424, 0.9850)]
    assert summary_sentence(more).endswith(
        " 2 setups have both shared and unshared runs; sharing is ahead in 1 of them (each setup compared "
        "with itself in the table *Shared against unshared*)."
    )
    # shared in one setup, unshared in another: nothing compared
    apart = [CLASS_MIX[0], CLASS_MIX[3]]
    assert summary_sentence(apart) == (
        "2 runs from 2 students, 2 setups. No setup has both shared and unshared runs yet, so the board does "
        "not compare them: only runs of the same setup make a fair comparison."
    )


def test_the_sentence_and_the_table_agree_on_the_rounded_difference():
    """Medians of 96.0049% and 91.3351% print as 96.00 and 91.34: unrounded they differ by 4.6698
    (4.67), printed by 4.66. The sentence states the difference of what the table prints."""
    from siamese_ui.board import shown_gaps, summary_sentence

    pair = [entry(1, "A", "s", True, 100, 0.960049), entry(2, "B", "s", False, 200, 0.913351)]
    (gap,) = shown_gaps(pair)
    assert (gap.shared_percent, gap.unshared_percent, gap.points) == (96.0, 91.34, 4.66)
    assert "96.00% shared and 91.34% unshared (+4.66 points for sharing)" in summary_sentence(pair)


def test_three_identical_runs_are_one_dot_with_their_count_and_every_nickname():
    from siamese_ui.board import board_figure

    same = [
        entry(k, name, "classroom", True, 111_712, 0.9809)
        for k, name in enumerate(("Ada", "<b>Bo</b>", "Cy"))
    ]
    figure = board_figure([*same, entry(9, "Di", "classroom", False, 223_424, 0.9740)]).to_plotly_json()
    shared, unshared = figure["data"]
    assert list(shared["x"]) == [111_712] and list(shared["y"]) == [98.09]  # one dot ...
    assert list(shared["text"]) == ["×3"]  # ... that says it is three
    hover = shared["customdata"][0][0]
    assert hover.startswith("<b>3 runs on this dot</b>")
    for name in ("Ada", "&lt;b&gt;Bo&lt;/b&gt;", "Cy"):  # every nickname, escaped
        assert f"<b>{name}</b> · classroom · AUC 0.9980" in hover
    assert list(unshared["text"]) == [""] and "Di" in unshared["customdata"][0][0]
    # shared and unshared differ by more than colour: the marker and the word
    assert (shared["marker"]["symbol"], unshared["marker"]["symbol"]) == ("circle", "square")
    assert (shared["customdata"][0][1], unshared["customdata"][0][1]) == (
        "shared weights",
        "unshared weights",
    )


def test_a_board_with_one_kind_of_run_still_says_what_a_dot_is():
    from siamese_ui.board import board_figure

    figure = board_figure([entry(1, "Ada", "classroom", True, 111_712, 0.9809)]).to_plotly_json()
    assert figure["layout"]["showlegend"] is True
    assert [(t["name"], t.get("showlegend")) for t in figure["data"] if len(t["x"])] == [
        ("shared weights", True)
    ]


def same_browser(student: str, page: str, query: dict | None = None):
    """A new session of the same browser (a reload, a new tab, the teacher's link): the student
    cookie gives it the same student id."""
    from streamlit.testing.v1 import AppTest

    from tests.helpers import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["student.id"] = student
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, texts(at.exception)
    return at


def test_a_reload_finds_the_finished_runs_and_the_class_the_student_joined(monkeypatch, board_file):
    """After a reload the board said "Nothing to post yet" until the student visited Train, forgot
    the class, and showed "on the board" under an empty own board."""
    from siamese_ui import race_view
    from tests.helpers import TINY_RACE as RACE

    monkeypatch.setattr(race_view, "BUDGET", RACE)  # the lab's race, shrunk for a test
    teacher = unlocked_teacher(monkeypatch)
    teacher.text_input[0].set_value("Year 12")
    next(b for b in teacher.button if b.label == "Open a class").click().run()
    code = teacher.session_state["teacher.class"]

    student = app("pages/train.py", TINY)
    next(b for b in student.button if b.label == "Start").click().run()
    job = student.session_state["train.job"]
    assert job.join(TIMEOUT)
    student.switch_page("pages/weight_sharing.py").run()
    student.button(key="ws.race.start").click().run()
    race = student.session_state["lessons.task.race"][1]
    assert race.join(TIMEOUT)
    student.query_params["board.class"] = code
    student.switch_page("pages/board.py").run()
    next(t for t in student.text_input if t.label == "Your nickname").set_value("Ada")
    next(b for b in student.button if b.label == "Join the class").click().run()
    sid = student.session_state["student.id"]

    # a reload on Home, then the Class board: a new session, no code in the link
    again = same_browser(sid, "pages/board.py")
    assert again.text_input(key="board.class").value == code
    assert any(f"({code}) as **Ada**" in s for s in texts(again.success)), texts(again.success)
    lines = [m for m in texts(again.markdown) if "parameters · test pair accuracy" in m]
    result = race.snapshot().result
    assert len(lines) == 3, texts(again.info)  # the Train run and both sides of the race
    assert f"**{100 * job.report.accuracy:.2f}%**" in lines[0]
    assert f"**{100 * result.shared.test_accuracy:.2f}%**" in lines[1]
    assert f"**{100 * result.unshared.test_accuracy:.2f}%**" in lines[2]
    posts = [b for b in again.button if b.label == "Post"]
    assert len(posts) == 3 and not any(b.disabled for b in posts)
    posts[0].click().run()
    assert Board(sa.create_engine(f"sqlite:///{board_file}")).posted([job.run_id]) == {
        job.run_id: Posted(code)
    }

    # the teacher's link in the same browser: the same runs, the first one shown as posted
    link = same_browser(sid, "pages/board.py", {"board.class": code})
    assert len([b for b in link.button if b.label == "Post"]) == 2
    assert any(":material/check: on this board" in m for m in texts(link.markdown))
    # emptied, the box shows the student's own board, and the posted run says where it went
    link.text_input(key="board.class").set_value("").run()
    assert any(s.startswith("Your own board") for s in texts(link.subheader))
    assert any(f"on the board of Year 12 ({code})" in m for m in texts(link.markdown)), texts(link.markdown)
    assert not any(m.endswith(":material/check: on this board]") for m in texts(link.markdown))


def test_an_unknown_code_says_so_with_a_search_icon_not_the_offline_one():
    at = app("pages/board.py", {"board.class": "22222Z"})
    (error,) = at.error
    assert error.value == "No class has the code “22222Z”: check it with your teacher."
    assert error.icon == ":material/search_off:"
    at.text_input(key="board.class").set_value("K0QX2M").run()
    assert "codes never use 0, 1, I or O" in at.error[0].value


def test_the_projector_view_folds_the_switch_and_the_code_box_away():
    at = app("pages/board.py", {"board.class": "", "board.projector": "true"})
    assert not at.exception
    assert not at.title  # the board alone
    (folded,) = at.main.expander
    assert folded.label == "Leave the projector view, or show another class"
    assert [t.label for t in folded.toggle] == ["Projector view"]
    assert [t.label for t in folded.text_input] == ["Class code"]
    folded.toggle[0].set_value(False).run()  # the way back
    assert [t.value for t in at.title] == ["Class board"] and not at.main.expander


def test_the_projector_view_draws_the_chart_big_enough_for_the_back_row(board_file):
    """The exploratory class found the projector's chart hard to read: Plotly's 12 px text on a
    wall. The projector view draws its chart text at 20 px; the page's own view stays at Plotly's."""
    from siamese_core.serving.board_records import RunFacts
    from siamese_ui.board import PROJECTOR_FONT_PX

    store = Board(sa.create_engine(f"sqlite:///{board_file}"))
    store.ensure_schema()
    code = store.open_class("Year 12").code
    for k, name in enumerate(("Ada", "Bo")):
        store.join(code, f"s{k}", name)
        store.post(code, f"s{k}", RunFacts(f"r{k}", "classroom", True, 111_712, 0.98, 0.99, 3.0, "mnist"))

    def chart_font(projector: str) -> list:
        """The text sizes the chart sets: ticks and titles of both axes, legend, dot counts."""
        at = app("pages/board.py", {"board.class": code, "board.projector": projector})
        assert not at.exception
        layout, data = (figure := json.loads(at.get("plotly_chart")[0].proto.spec))["layout"], figure["data"]
        axes = [layout[a].get("tickfont", {}).get("size") for a in ("xaxis", "yaxis")]
        titles = [layout[a]["title"].get("font", {}).get("size") for a in ("xaxis", "yaxis")]
        return [
            *axes,
            *titles,
            layout["legend"].get("font", {}).get("size"),
            *(t["textfont"]["size"] for t in data),
        ]

    big = PROJECTOR_FONT_PX
    assert chart_font("true") == [big] * 7 and big >= 18
    assert chart_font("false") == [None, None, None, None, None, 15, 15]  # the page's own: the theme's sizes


def test_a_nickname_on_the_own_board_survives_until_post():
    """The own board's nickname box hides once a nickname is set; Streamlit dropped the hidden box's
    value, so Post found no nickname, was disabled, and the click was lost (the keyboard test found it)."""

    student, job = finished_student()
    student.switch_page("pages/board.py").run()
    box = next(t for t in student.text_input if t.label == "Your nickname on your own board")
    box.set_value("Kim").run()
    assert not any(t.label == "Your nickname on your own board" for t in student.text_input)
    student.run()  # another run in between: the hidden box is dropped, the nickname stays
    post = next(b for b in student.button if b.label == "Post")
    assert not post.disabled
    post.click().run()
    assert any(s.startswith("Posted to") for s in texts(student.success)), texts(student.success)
    assert any("1 run from 1 student" in m for m in texts(student.markdown)), texts(student.markdown)
