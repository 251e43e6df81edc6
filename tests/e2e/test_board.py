"""The class board in real browsers: a teacher opens a class, two students (two browser
contexts, so two cookies: two students) train and post to it, the board on a third context
(the projector) shows both within seconds, and the teacher removes one."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import goto_nav, no_traceback, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

PIN = "4711-e2e"
TINY = (
    "/train?train.dataset=mnist-5k&train.branch=mlp&train.embedding_dim=16&train.optimizer=adam"
    "&train.epochs=1&train.pairs_per_epoch=1024&train.batch_size=64&train.steps_per_execution=1"
)


@pytest.fixture(scope="module")
def board_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("board") / "board.sqlite"
    s = start_server(
        log_name="server-board.log",
        env={
            "SIAMESE_LAB_BOARD_PATH": str(path),
            "SIAMESE_LAB_TEACHER_PIN": PIN,
            "SIAMESE_LAB_MAX_TRAININGS": "2",
        },
    )
    yield s
    stop_server(s)


def new_page(browser, url: str, path: str, height: int = 1300):
    context = browser.new_context(viewport={"width": 1400, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + path)
    wait_idle(page)
    return context, page


def main(page):
    return page.get_by_test_id("stMainBlockContainer")


def train_and_post(page, code: str, nickname: str) -> None:
    main(page).get_by_role("button", name="Start", exact=True).click()
    main(page).get_by_text(re.compile(r"Test pair accuracy [\d.]+% at threshold")).wait_for(timeout=180_000)
    goto_nav(page, "Class board")
    box = main(page).get_by_role("textbox", name="Class code")
    box.fill(code)
    box.press("Enter")
    wait_idle(page)
    main(page).get_by_role("textbox", name="Your nickname").fill(nickname)
    main(page).get_by_role("button", name="Join the class").click()
    wait_idle(page)
    main(page).get_by_text(f"as {nickname}.").first.wait_for()
    main(page).get_by_role("button", name="Post").click()
    wait_idle(page)
    main(page).get_by_text("on the board").first.wait_for()
    no_traceback(page)


def test_two_students_post_the_projector_shows_both_the_teacher_removes_one(browser, board_server):
    url = board_server["url"]
    teacher_ctx, teacher = new_page(browser, url, "/teacher")
    main(teacher).get_by_role("textbox", name="Teacher PIN").fill(PIN)
    main(teacher).get_by_role("button", name="Unlock").click()
    wait_idle(teacher)
    main(teacher).get_by_role("textbox", name="New class name").fill("Year 12 Tuesday")
    main(teacher).get_by_role("button", name="Open a class").click()
    wait_idle(teacher)
    opened = main(teacher).get_by_text("its code is").first.inner_text()
    code = re.search(r"its code is ([A-Z2-9]{6})", opened).group(1)

    projector_ctx, projector = new_page(browser, url, f"/board?board.class={code}&board.projector=true", 1000)
    main(projector).get_by_text("No runs on this board yet").wait_for()

    # half the room shares weights, half does not
    (a_ctx, a), (b_ctx, b) = (
        new_page(browser, url, TINY),
        new_page(browser, url, TINY + "&train.shared=false"),
    )
    train_and_post(a, code, "Ada")
    posted_a = time.monotonic()
    train_and_post(b, code, "<i>Bo</i> $x$")  # shown as typed: no italics, no LaTeX
    posted_b = time.monotonic()

    # the projector redraws by itself (no reload) and shows both, within seconds of the posts
    board = main(projector)
    board.get_by_text("2 runs from 2 students").wait_for(timeout=15_000)
    assert time.monotonic() - posted_b < 15 and time.monotonic() - posted_a < 60
    board.get_by_text(re.compile(r"Median test pair accuracy: shared [\d.]+%, unshared [\d.]+%")).wait_for()
    board.get_by_test_id("stDataFrame").first.wait_for()
    no_traceback(projector)
    shot(projector, "board")

    # the teacher removes Ada's entry; the projector drops it by itself
    goto_nav(teacher, "Teacher")  # the same session: still unlocked
    main(teacher).get_by_text("2 entries").first.wait_for()
    main(teacher).get_by_test_id("stSelectbox").filter(has_text="Entry").click()
    teacher.get_by_role("option").filter(has_text="Ada").click()
    wait_idle(teacher)
    main(teacher).get_by_role("button", name="Remove").click()
    wait_idle(teacher)
    main(teacher).get_by_text("1 entry").first.wait_for()
    no_traceback(teacher)
    shot(teacher, "teacher")
    board.get_by_text("1 run from 1 student").wait_for(timeout=15_000)
    for context in (teacher_ctx, projector_ctx, a_ctx, b_ctx):
        context.close()
