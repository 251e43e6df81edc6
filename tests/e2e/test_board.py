"""The class board in real browsers: a teacher opens a class, two students (two browser
contexts, so two cookies: two students) train and post to it, the board on a third context
(the projector) shows both within seconds, and the teacher removes one."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import assert_accessible, goto_nav, no_traceback, shot, start_server, stop_server, wait_idle

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


def new_page(browser, url: str, path: str, height: int = 1300, wait: float = 120):
    context = browser.new_context(viewport={"width": 1400, "height": height})
    page = context.new_page()
    page.set_default_timeout(wait * 1000)
    page.goto(url + path)
    wait_idle(page, wait)
    return context, page


def main(page):
    return page.get_by_test_id("stMainBlockContainer")


def train_and_post(page, code: str, nickname: str) -> None:
    main(page).get_by_role("button", name="Start", exact=True).click()
    main(page).get_by_text(re.compile(r"Test pair accuracy [\d.]+% at threshold")).wait_for(timeout=180_000)
    assert_accessible(page, f"Train, {nickname}'s finished run")
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
    main(page).get_by_text("on this board").first.wait_for()
    no_traceback(page)


def open_class(browser, url: str, name: str):
    """The teacher unlocks the Teacher page and opens a class; returns (context, page, code)."""
    teacher_ctx, teacher = new_page(browser, url, "/teacher")
    main(teacher).get_by_role("textbox", name="Teacher PIN").fill(PIN)
    main(teacher).get_by_role("button", name="Unlock", exact=True).click()
    wait_idle(teacher)
    main(teacher).get_by_role("textbox", name="New class name").fill(name)
    main(teacher).get_by_role("button", name="Open a class").click()
    wait_idle(teacher)
    opened = main(teacher).get_by_text("its code is").first.inner_text()
    return teacher_ctx, teacher, re.search(r"its code is ([A-Z2-9]{6})", opened).group(1)


def test_two_students_post_the_projector_shows_both_the_teacher_removes_one(browser, board_server):
    url = board_server["url"]
    teacher_ctx, teacher, code = open_class(browser, url, "Year 12 Tuesday")

    projector_ctx, projector = new_page(browser, url, f"/board?board.class={code}&board.projector=true", 1000)
    main(projector).get_by_text("No runs on this board yet").wait_for()

    # half the room shares weights, half does not
    (a_ctx, a), (b_ctx, b) = (
        new_page(browser, url, TINY),
        new_page(browser, url, TINY + "&train.shared=false"),
    )
    train_and_post(a, code, "Ada")
    train_and_post(b, code, "<i>Bo</i> $x$")  # shown as typed: no italics, no LaTeX
    posted_b = time.monotonic()

    # the projector redraws by itself (no reload) and shows both, within seconds of the posts
    board = main(projector)
    board.get_by_text("2 runs from 2 students").wait_for(timeout=15_000)
    assert time.monotonic() - posted_b < 15  # Ada's post is older: B's training came between
    board.get_by_text(
        re.compile(r"median test pair accuracy is [\d.]+% shared and [\d.]+% unshared")
    ).wait_for()
    board.get_by_test_id("stDataFrame").first.wait_for()
    no_traceback(projector)
    shot(projector, "board")
    assert_accessible(projector, "the projector view with two runs")
    assert_accessible(b, "the board as a student sees it after posting")

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
    assert_accessible(teacher, "the Teacher page, unlocked, with a class and its entries")
    board.get_by_text("1 run from 1 student").wait_for(timeout=15_000)
    for context in (teacher_ctx, projector_ctx, a_ctx, b_ctx):
        context.close()


def table_fits(page) -> list[tuple[int, int]]:
    """Each table's (scroll width, visible width): equal when every column is in view."""
    return page.eval_on_selector_all(
        "[data-testid='stDataFrame'] .dvn-scroller",
        "els => els.map(e => [e.scrollWidth, e.clientWidth])",
    )


def test_a_reload_and_the_teachers_link_find_the_run_and_the_class(browser, board_server):
    """Issue 24, items 3 and 11: a reload (on another page) or the teacher's link opened in the
    same browser is a new session; the board finds the finished run and the joined class
    through the student cookie. Then the board's tables at 1400 and 390 px, and the projector."""
    url = board_server["url"]
    teacher_ctx, _, code = open_class(browser, url, "Year 9 reload")
    context, page = new_page(browser, url, TINY, wait=300)  # generous: a busy machine loads TensorFlow slowly
    main(page).get_by_role("button", name="Start", exact=True).click()
    main(page).get_by_text(re.compile(r"Test pair accuracy [\d.]+% at threshold")).wait_for(timeout=180_000)
    goto_nav(page, "Class board")
    box = main(page).get_by_role("textbox", name="Class code")
    box.fill(code)
    box.press("Enter")
    wait_idle(page)
    main(page).get_by_role("textbox", name="Your nickname").fill("Eve")
    main(page).get_by_role("button", name="Join the class").click()
    wait_idle(page)

    goto_nav(page, "Home")  # the board's code leaves the address bar with the page
    page.reload()
    wait_idle(page)
    goto_nav(page, "Class board")
    assert main(page).get_by_role("textbox", name="Class code").input_value() == code
    main(page).get_by_text("as Eve.").first.wait_for()
    post = main(page).get_by_role("button", name="Post")
    assert post.is_enabled()  # the run is offered, not "Nothing to post yet"
    post.click()
    wait_idle(page)
    main(page).get_by_text("on this board").first.wait_for()
    no_traceback(page)

    link = context.new_page()  # the teacher's link, in the same browser
    link.set_default_timeout(120_000)
    link.goto(f"{url}/board?board.class={code}")
    wait_idle(link)
    main(link).get_by_text("as Eve.").first.wait_for()
    main(link).get_by_text("on this board").first.wait_for()
    main(link).get_by_text("1 run from 1 student").wait_for(timeout=15_000)
    # the legend says what a dot is, with one kind of run on the board
    link.wait_for_selector(".js-plotly-plot .legendtext")
    assert link.locator(".js-plotly-plot .legendtext").all_text_contents() == ["shared weights"]
    link.wait_for_selector("[data-testid='stDataFrame'] .dvn-scroller")
    time.sleep(2)
    fits = table_fits(link)
    assert len(fits) == 2 and all(scroll <= visible + 1 for scroll, visible in fits), (
        fits
    )  # every column at 1400 px
    shot(link, "board-student-1400")
    link.set_viewport_size({"width": 390, "height": 1400})
    time.sleep(1.5)
    assert link.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")  # no sideways page
    shot(link, "board-student-390")

    # emptied, the box shows the student's own board; the run says where it went
    box = main(link).get_by_role("textbox", name="Class code")
    box.fill("")
    box.press("Enter")
    wait_idle(link)
    main(link).get_by_text("Your own board").first.wait_for()
    main(link).get_by_text(f"on the board of Year 9 reload ({code})").wait_for()
    # no run is said to be on this (empty) board: only "No runs on this board yet" may say those words
    assert main(link).get_by_text(re.compile(r"^on this board$")).count() == 0
    no_traceback(link)

    # the projector: the board alone, the sidebar folded, the switch and the code box folded away
    projector = context.new_page()
    projector.set_default_timeout(120_000)
    projector.set_viewport_size({"width": 1400, "height": 1000})
    projector.goto(f"{url}/board?board.class={code}&board.projector=true")
    wait_idle(projector)
    main(projector).get_by_text("1 run from 1 student").wait_for(timeout=15_000)
    assert projector.get_by_test_id("stExpandSidebarButton").is_visible()  # folded, and a way to open it
    assert not main(projector).get_by_role("textbox", name="Class code").is_visible()
    assert not main(projector).get_by_text("Projector view", exact=True).is_visible()
    no_traceback(projector)
    shot(projector, "board-projector-1400")
    main(projector).get_by_text("Leave the projector view, or show another class").click()
    main(projector).get_by_text("Projector view", exact=True).click()  # the way back
    wait_idle(projector)
    main(projector).get_by_role("heading", name="Class board").wait_for()
    no_traceback(projector)
    for ctx in (context, teacher_ctx):
        ctx.close()
