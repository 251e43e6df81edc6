"""The guided lesson walked in real headless Chromium: from Home's button, Next through every step
to the end, each step's box on its own page, no exception anywhere; then Finish hides it."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest

from siamese_ui.lesson import PAGE_NAMES, STEPS
from tests.helpers import PAGE_TITLES  # each page's title, the h1 a browser shows

from .conftest import SHOTS, goto_nav, no_traceback, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

BOX = "[class*='st-key-lesson-box']"


def plain(markdown: str) -> str:
    """What the browser shows of a line of markdown (bold and italics gone)."""
    return markdown.replace("*", "")


def box_for_step(page, k: int):
    """Wait for step k's box, then for the page to settle."""
    heading = f"step {k + 1} of {len(STEPS)} · {STEPS[k].title}"
    box = page.locator(BOX).filter(has_text=heading)
    box.wait_for(timeout=120_000)
    wait_idle(page, timeout=120)
    return box


def click_in_box(page, label: str) -> None:
    page.locator(BOX).get_by_role("button", name=re.compile(label)).click()
    time.sleep(0.5)
    wait_idle(page, timeout=120)


def test_the_whole_lesson_from_home_to_the_end(page):
    page.goto(page.base_url)
    wait_idle(page)
    assert page.locator(BOX).count() == 0  # off on a first visit
    page.get_by_role("button", name=re.compile("Start the guided lesson")).click()
    time.sleep(0.5)
    for k, step in enumerate(STEPS):
        box = box_for_step(page, k)
        no_traceback(page)
        assert page.locator("h1").first.inner_text().strip() == PAGE_TITLES[step.page], (k, step.page)
        text = box.inner_text()
        assert plain(step.predict) in text and plain(step.try_) in text and "Notice:" in text, text
        # the sidebar's own link to this page is the current one: we are where the step says
        current = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']")
        if current.count():
            assert PAGE_NAMES[step.page] in current.first.inner_text()
        if k == 1:
            SHOTS.mkdir(exist_ok=True)
            # docs/screenshots/lesson.png is this picture, copied by hand
            page.screenshot(path=str(SHOTS / "lesson.png"))
        if k < len(STEPS) - 1:
            click_in_box(page, "Next")
    click_in_box(page, "Finish")
    assert page.locator(BOX).count() == 0
    no_traceback(page)


def test_a_teachers_link_opens_the_lesson_and_the_switch_turns_it_off(page):
    page.goto(page.base_url + "/weight_sharing?lesson=on")
    wait_idle(page)
    box_for_step(page, 1)
    page.locator("[data-testid='stSidebar']").get_by_text("Guided lesson", exact=True).click()
    time.sleep(0.5)
    wait_idle(page)
    assert page.locator(BOX).count() == 0
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Compare").first.click()
    time.sleep(0.5)
    wait_idle(page, timeout=120)
    assert page.locator("h1").first.inner_text().strip() == PAGE_TITLES["compare"]
    assert page.locator(BOX).count() == 0  # off stays off on the next page
    no_traceback(page)


# ---- Next and Back after the student did what the box says (issue 24, item 1) --------------------
MAIN = "[data-testid='stMainBlockContainer']"


@pytest.fixture(scope="module")
def lesson_server(tmp_path_factory):
    """A server of its own, with a board in a temporary file (step 8 types a real class code)."""
    path = tmp_path_factory.mktemp("board") / "board.sqlite"
    s = start_server(log_name="server-lesson.log", env={"SIAMESE_LAB_BOARD_PATH": str(path)})
    s["board_path"] = path
    yield s
    stop_server(s)


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def slider_value(page, label: str) -> int:
    widget = page.locator(f"{MAIN} [data-testid='stSlider']").filter(has_text=label).first
    return int(widget.get_by_test_id("stSliderThumbValue").first.inner_text().replace(",", ""))


def address_holds(page, key: str, shown: str, default: str) -> None:
    """The address holds what the page shows: the value, or nothing when it is the default."""
    assert query(page).get(key, [default]) == [shown], (key, shown, page.url)


@pytest.mark.timeout(1800)  # a fresh server on a loaded machine: minutes before the first page
def test_next_and_back_after_each_try_that_moves_a_linked_widget(browser, lesson_server):
    from tests.helpers import open_class

    code = open_class(lesson_server["board_path"])
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(lesson_server["url"] + "/weight_sharing?lesson=on")
        wait_idle(page, timeout=600)  # a fresh server: the first page waits for the warm-up
        box_for_step(page, 1)
        # step 2's Try: sharing off and on, then N moved
        # the switch's own label (the lesson box names it too, in bold)
        sharing = (
            page.locator(MAIN)
            .get_by_role("paragraph")
            .filter(has_text=re.compile(r"^Share weights between the branches$"))
        )
        for _ in range(2):
            sharing.click()
            time.sleep(0.5)
            wait_idle(page)
        slider = page.locator(f"{MAIN} [data-testid='stSlider']").filter(has_text="Number of inputs N").first
        slider.get_by_role("slider").focus()
        page.keyboard.press("ArrowRight")
        time.sleep(0.8)
        wait_idle(page, timeout=120)
        n = slider_value(page, "Number of inputs N")
        assert n != 3 and query(page)["ws.n_inputs"] == [str(n)], page.url  # moved off its default
        click_in_box(page, "Next")
        box_for_step(page, 2)
        no_traceback(page)
        assert page.locator("h1").first.inner_text().strip() == PAGE_TITLES["train"]
        assert not [key for key in query(page) if key.startswith("ws.")], page.url
        click_in_box(page, "Back")
        box_for_step(page, 1)
        no_traceback(page)
        address_holds(page, "ws.n_inputs", str(slider_value(page, "Number of inputs N")), "3")

        # step 4's Try: the margin changed on Train, then Next and Back
        click_in_box(page, "Next")
        box_for_step(page, 2)
        click_in_box(page, "Next")
        box_for_step(page, 3)
        margin = page.locator(MAIN).get_by_role("spinbutton", name="Margin")
        margin.fill("2")
        margin.press("Enter")
        time.sleep(0.8)
        wait_idle(page)
        assert [float(v) for v in query(page)["train.margin"]] == [2.0], page.url  # "2" or "2.0"
        click_in_box(page, "Next")
        box_for_step(page, 4)
        no_traceback(page)
        # train.seed is the Train page's own parameter, unbound (train_form.seed_widget), kept like a
        # sidebar link keeps it; every parameter bound to Train's widgets is gone
        assert not [key for key in query(page) if key.startswith("train.") and key != "train.seed"], page.url
        click_in_box(page, "Back")
        box_for_step(page, 3)
        no_traceback(page)
        shown = margin.input_value()
        assert float(query(page).get("train.margin", ["1"])[0]) == float(shown), page.url

        # step 8's Try: a class code typed on the Class board, then Back and Next
        goto_nav(page, "Class board")
        box_for_step(page, 7)
        box = page.locator(MAIN).get_by_role("textbox", name="Class code")
        box.fill(code)
        box.press("Enter")
        time.sleep(0.8)
        wait_idle(page)
        assert query(page)["board.class"] == [code], page.url
        click_in_box(page, "Back")
        box_for_step(page, 6)
        no_traceback(page)
        assert "board.class" not in query(page), page.url
        click_in_box(page, "Next")
        box_for_step(page, 7)
        no_traceback(page)
        address_holds(page, "board.class", box.input_value(), "")
        assert query(page)["lesson"]  # the lesson's own word travelled all the way
    finally:
        context.close()


@pytest.mark.timeout(1800)  # a fresh server on a loaded machine: minutes before the first page
def test_a_reload_mid_lesson_finds_it_on_at_the_same_step(page):
    """Switched on by hand (no ?lesson=on link), three steps in, then a reload: the lesson is on, at
    the step the student was on (the address holds it)."""
    page.goto(page.base_url)
    wait_idle(page, timeout=600)  # maybe the server's first page: it waits for the warm-up
    page.locator("[data-testid='stSidebar']").get_by_text("Guided lesson", exact=True).click()
    time.sleep(0.5)
    wait_idle(page)
    page.get_by_role("button", name=re.compile("Back to the lesson")).click()
    time.sleep(0.5)
    box_for_step(page, 0)
    click_in_box(page, "Next")
    box_for_step(page, 1)
    click_in_box(page, "Next")
    box_for_step(page, 2)
    assert query(page).get("lesson") == ["3"], page.url
    page.reload()
    box_for_step(page, 2)
    assert page.locator("h1").first.inner_text().strip() == PAGE_TITLES["train"]
    # the sidebar's links keep it too: the lesson follows to that page's step
    goto_nav(page, "Compare")
    box_for_step(page, 0)
    page.reload()
    box_for_step(page, 0)
    no_traceback(page)
