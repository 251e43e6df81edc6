"""The guided lesson walked in real headless Chromium: from Home's button, Next through every step
to the end, each step's box on its own page, no exception anywhere; then Finish hides it."""

from __future__ import annotations

import re
import time

import pytest

from siamese_ui.lesson import PAGE_NAMES, STEPS
from tests.test_lesson import PAGE_TITLES  # each page's title, the h1 a browser shows

from .conftest import SHOTS, no_traceback, wait_idle

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
