"""The teacher's PIN in real browsers: a pupil typing wrong PINs in their own browser does not
lock the teacher out, and the teacher's unlock survives a reload of the same browser (the signed
cookie) until Lock."""

from __future__ import annotations

import time

import pytest

from .conftest import assert_accessible, no_traceback, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

PIN = "4711-e2e-teacher"


@pytest.fixture(scope="module")
def pin_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("teacher") / "board.sqlite"
    s = start_server(
        log_name="server-teacher.log",
        env={
            "SIAMESE_LAB_BOARD_PATH": str(path),
            "SIAMESE_LAB_TEACHER_PIN": PIN,
            "SIAMESE_LAB_MAX_TRAININGS": "1",
        },
    )
    yield s
    stop_server(s)


def teacher_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + "/teacher")
    wait_idle(page)
    return context, page


def main(page):
    return page.get_by_test_id("stMainBlockContainer")


def try_pin(page, typed: str) -> str:
    """Type a PIN, press Unlock; the error it got ("" when none)."""
    box = main(page).get_by_role("textbox", name="Teacher PIN")
    box.first.fill(typed)
    main(page).get_by_role("button", name="Unlock", exact=True).first.click()
    deadline = time.time() + 60
    while time.time() < deadline and _typed_still(box):
        time.sleep(0.1)  # the form empties the box when it is sent (clear_on_submit)
    time.sleep(0.3)
    wait_idle(page)
    errors = main(page).get_by_test_id("stAlertContentError")
    return errors.first.inner_text() if errors.count() else ""


def _typed_still(box) -> bool:
    from playwright.sync_api import Error

    try:
        return any(b.input_value(timeout=1000) for b in box.all())
    except Error:  # a box replaced by the rerun while read
        return True


def unlocked(page) -> bool:
    return main(page).get_by_role("button", name="Open a class").count() == 1


def test_a_pupils_wrong_pins_leave_the_teacher_free_and_a_reload_stays_unlocked(browser, pin_server):
    url = pin_server["url"]
    pupil_ctx, pupil = teacher_page(browser, url)
    teacher_ctx, teacher = teacher_page(browser, url)
    try:
        # the pupil guesses four times: from the third on, this browser waits
        for typed in ("1234", "0000", "4711", "9999"):
            try_pin(pupil, typed)
        main(pupil).get_by_text("Too many wrong PINs from this browser").first.wait_for()

        # the teacher, in another browser, is not held back
        assert try_pin(teacher, PIN) == ""
        assert unlocked(teacher)
        no_traceback(teacher)
        deadline = time.time() + 30
        while not (cookies := [c for c in teacher_ctx.cookies() if c["name"] == "siamese_lab_teacher"]):
            assert time.time() < deadline, "the unlock cookie was never written"
            time.sleep(0.3)
        (cookie,) = cookies
        assert cookie["sameSite"] == "Strict" and 11.9 * 3600 < cookie["expires"] - time.time() <= 12 * 3600
        assert not [c for c in pupil_ctx.cookies() if c["name"] == "siamese_lab_teacher"]

        teacher.reload()  # a new session of the same browser: still unlocked, no PIN typed
        wait_idle(teacher)
        # what the page says once its script has run (right after a reload, wait_idle can return
        # before the new session's first run has drawn anything: the page was empty, once, under load)
        teacher.get_by_text("This browser stays unlocked for 11 h").first.wait_for()
        assert unlocked(teacher), (main(teacher).inner_text()[:600], teacher_ctx.cookies())
        assert main(teacher).get_by_role("textbox", name="Teacher PIN").count() == 0
        assert_accessible(teacher, "the Teacher page after a reload, still unlocked")

        teacher.get_by_role("button", name="Lock the teacher's page").click()  # Lock, then reload: locked
        time.sleep(0.5)
        wait_idle(teacher)
        main(teacher).get_by_role("textbox", name="Teacher PIN").wait_for()
        teacher.reload()
        wait_idle(teacher)
        main(teacher).get_by_role("textbox", name="Teacher PIN").wait_for()
        assert not unlocked(teacher)
        no_traceback(teacher)
    finally:
        pupil_ctx.close()
        teacher_ctx.close()
