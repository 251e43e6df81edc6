"""The Teacher page's PIN in AppTest: waits per browser (a pupil's wrong PINs keep only that
pupil out), a second tab of the same browser keeps the wait, the signed cookie that keeps a
browser unlocked across reloads, Lock, and a changed PIN."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, TIMEOUT

PIN = "4711-tuesday"
PUPIL, TEACHER_BROWSER = "a" * 32, "b" * 32  # student cookie ids: one per browser


@pytest.fixture(autouse=True)
def pin_set(tmp_path, monkeypatch):
    """Each test its own board file, this PIN, and fresh server-wide PIN state."""
    monkeypatch.setenv("SIAMESE_LAB_BOARD_PATH", str(tmp_path / "board.sqlite"))
    monkeypatch.delenv("SIAMESE_LAB_BOARD_URL", raising=False)
    monkeypatch.setenv("SIAMESE_LAB_TEACHER_PIN", PIN)
    return clear_server_state()


class FakeClock:
    """The PIN waits' clock, moved by hand: a wait neither runs out under a slow test nor needs
    a sleep."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def clear_server_state() -> FakeClock:
    clock = FakeClock()
    from siamese_ui.teacher_auth import pin_throttle, teacher_tokens

    pin_throttle.clear()
    teacher_tokens.clear()
    pin_throttle().clock = clock
    return clock


def teacher_page(browser: str) -> AppTest:
    """The Teacher page in a new session of the browser whose student cookie is ``browser``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["student.id"] = browser  # what student_id() reads from the cookie
    at.run()
    at.switch_page("pages/teacher.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def try_pin(at: AppTest, typed: str) -> list[str]:
    at.text_input[0].set_value(typed)
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


def is_unlocked(at: AppTest) -> bool:
    return any(b.label == "Open a class" for b in at.button)


def test_a_pupil_typing_wrong_pins_does_not_lock_the_teacher_out(pin_set):
    pupil = teacher_page(PUPIL)
    for typed in ("1234", "0000", "4711"):
        try_pin(pupil, typed)
    pin_set.now += 2  # the pupil waits as told, and tries again
    try_pin(pupil, "1111")
    assert try_pin(pupil, PIN)[0].startswith("Too many wrong PINs")  # 4 s to wait, right PIN or not
    teacher = teacher_page(TEACHER_BROWSER)
    assert try_pin(teacher, PIN) == []
    assert is_unlocked(teacher)


def test_wrong_pins_get_one_sentence_each_and_an_empty_box_is_not_a_try(pin_set):
    at = teacher_page(PUPIL)
    assert try_pin(at, "   ") == ["Type the PIN first."]
    seen = [try_pin(at, typed) for typed in ("1234", "0000", "4711", PIN)]
    assert seen[:2] == [["Wrong PIN."], ["Wrong PIN."]]  # the empty box did not count
    assert seen[2] == ["Wrong PIN. Too many wrong PINs from this browser: the next try is possible in 2 s."]
    assert seen[3] == ["Too many wrong PINs from this browser: try again in 2 s."]  # right, but unread
    assert not is_unlocked(at)
    pin_set.now += 2
    assert try_pin(at, PIN) == [] and is_unlocked(at)


def test_a_new_tab_of_the_same_browser_keeps_its_wait(pin_set):
    first = teacher_page(PUPIL)
    for typed in ("1234", "0000", "4711"):
        try_pin(first, typed)
    second = teacher_page(PUPIL)  # same student cookie: same browser
    assert try_pin(second, PIN) == ["Too many wrong PINs from this browser: try again in 2 s."]


def cookie_scripts(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.get("html") if "siamese_lab_teacher=" in e.proto.body]


def test_unlocking_writes_a_signed_cookie_that_a_reload_of_this_browser_only_accepts(monkeypatch):
    from siamese_ui import teacher_auth

    teacher = teacher_page(TEACHER_BROWSER)
    assert try_pin(teacher, PIN) == [] and is_unlocked(teacher)
    (script,) = cookie_scripts(teacher)
    token = teacher.session_state["teacher.unlocked"]
    assert f"siamese_lab_teacher={token}; path=/; max-age=" in script and "SameSite=Strict" in script
    max_age = int(script.split("max-age=")[1].split(";")[0])
    assert 12 * 3600 - 120 <= max_age <= 12 * 3600
    assert any(
        "This browser stays unlocked for 11 h 59 min more" in m.value for m in teacher.sidebar.markdown
    )
    teacher.run()
    assert cookie_scripts(teacher) == []  # written once

    # a reload: a new session of the same browser, sending the cookie
    monkeypatch.setattr(teacher_auth, "_cookie", lambda: token)
    reloaded = teacher_page(TEACHER_BROWSER)
    assert is_unlocked(reloaded)
    assert "Teacher PIN" not in [t.label for t in reloaded.text_input]  # unlocked by the cookie, untyped
    # the same cookie in another browser (another student id), forged, or a bare flag: locked
    forged = token[:-1] + ("1" if token.endswith("0") else "0")  # one character off, never the token itself
    for browser, cookie in ((PUPIL, token), (TEACHER_BROWSER, forged), (TEACHER_BROWSER, "true")):
        monkeypatch.setattr(teacher_auth, "_cookie", lambda cookie=cookie: cookie)
        assert not is_unlocked(teacher_page(browser)), (browser, cookie)


def test_lock_revokes_the_cookie_and_removes_it(monkeypatch):
    from siamese_ui import teacher_auth

    teacher = teacher_page(TEACHER_BROWSER)
    try_pin(teacher, PIN)
    token = teacher.session_state["teacher.unlocked"]
    monkeypatch.setattr(teacher_auth, "_cookie", lambda: token)
    other_tab = teacher_page(TEACHER_BROWSER)
    assert is_unlocked(other_tab)
    next(b for b in teacher.sidebar.button if b.label == "Lock the teacher's page").click().run()
    assert not is_unlocked(teacher)
    (script,) = cookie_scripts(teacher)
    assert "siamese_lab_teacher=; path=/; max-age=0;" in script  # removed from the browser
    other_tab.run()
    assert not is_unlocked(other_tab)  # the cookie it came with opens nothing any more
    assert not is_unlocked(teacher_page(TEACHER_BROWSER))  # nor does a reload that still sends it


def test_without_keep_unlocked_no_cookie_is_written_and_the_page_says_so():
    teacher = teacher_page(TEACHER_BROWSER)
    teacher.checkbox[0].uncheck()
    assert try_pin(teacher, PIN) == [] and is_unlocked(teacher)
    assert cookie_scripts(teacher) == []
    assert any("a reload asks for the PIN again" in m.value for m in teacher.sidebar.markdown)


def test_changing_the_pin_locks_an_open_page_and_voids_its_cookie(monkeypatch):
    from siamese_ui import teacher_auth

    teacher = teacher_page(TEACHER_BROWSER)
    try_pin(teacher, PIN)
    token = teacher.session_state["teacher.unlocked"]
    monkeypatch.setenv("SIAMESE_LAB_TEACHER_PIN", "a-new-pin")
    teacher.run()
    assert not is_unlocked(teacher)
    monkeypatch.setattr(teacher_auth, "_cookie", lambda: token)
    assert not is_unlocked(teacher_page(TEACHER_BROWSER))


def test_closing_a_class_says_so_and_the_class_box_marks_it_closed(pin_set):
    """Found by the exploratory class: after Close the class, nothing confirmed it."""
    clear_server_state()
    at = teacher_page("teacher-laptop")
    assert try_pin(at, PIN) == []
    at.text_input(key="teacher.class_name").set_value("Year 9 · Friday")
    next(b for b in at.button if b.label == "Open a class").click().run()
    at.button(key="teacher.close").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [
        "Closed **Year 9 · Friday**: no new members or runs; its board stays."
    ]
    box = at.selectbox(key="teacher.class")
    assert box.value is not None and any(o.endswith("(closed)") for o in box.options)
    assert any(b.label == "Reopen the class" for b in at.button)
    at.button(key="teacher.reopen").click().run()
    assert [s.value for s in at.success] == [
        "Reopened **Year 9 · Friday**: students can join and post again."
    ]
    assert not any(o.endswith("(closed)") for o in at.selectbox(key="teacher.class").options)


def test_a_model_process_waiting_for_memory_is_shown_with_the_room_it_needs(monkeypatch):
    """Issue 26: the model service starts a process only when the container has room for it; the
    teacher sees how many wait and how much memory each needs (the pool's own measured size)."""
    from siamese_core.serving.container import HEADROOM_MB
    from siamese_ui.resources import worker_pool

    pool = worker_pool()
    pool.device(TIMEOUT)  # every process there is ready: only the memory holds the next one back
    monkeypatch.setattr(pool, "_spare_mb", lambda: 0.0)  # a full container
    monkeypatch.setattr(pool, "wanted", len(pool.pids()) + 1)
    teacher = teacher_page(TEACHER_BROWSER)
    assert try_pin(teacher, PIN) == [] and is_unlocked(teacher)
    mb = f"{pool.process_mb + HEADROOM_MB:,.0f}"
    assert any(
        f"1 model process is not started yet: it starts once the one before it is ready and about {mb} MB"
        in info.value
        for info in teacher.info
    ), [i.value for i in teacher.info]
    assert len(pool.pids()) == pool.wanted - 1  # and it really did not start
