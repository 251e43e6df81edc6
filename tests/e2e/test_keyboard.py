"""The keyboard alone: the guided lesson's first four steps, a training started and its result
read, and the run posted, with Tab, Shift+Tab, Enter, Space and the arrow keys (and letters for a
nickname). The student arrives by a link carrying a small training setup, as a teacher's link
would. After Start the focus goes to Pause or Stop; after the run ends, to Start; after the
lesson's Start and Next, to the lesson's box."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest

from tests.helpers import TINY

from .conftest import no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser

FOCUS_TEXT = """() => {
    const a = document.activeElement;
    if (!a || a === document.body) return "";
    const label = a.getAttribute("aria-label") || (a.labels && a.labels.length && a.labels[0].innerText)
        || a.innerText || a.value || "";
    return label.trim();
}"""
IN_BOX = (
    "() => !!(document.activeElement && document.activeElement.closest(\"[class*='st-key-lesson-box']\"))"
)
FOCUSED_KEY = """() => {
    const box = document.activeElement && document.activeElement.closest("[class*='st-key-']");
    return box ? [...box.classList].find((c) => c.startsWith("st-key-")) : "";
}"""


def focus_text(page) -> str:
    return page.evaluate(FOCUS_TEXT)


def tab_until(page, want: str | Callable[[str], bool], back: bool = False, limit: int = 200) -> str:
    """Press Tab (Shift+Tab with ``back``) until the focused control's label matches ``want``."""
    match = want if callable(want) else (lambda text: text == want or text.endswith("\n" + want))
    seen = []
    for _ in range(limit):
        text = focus_text(page)
        if match(text):
            return text
        seen.append(text)
        page.keyboard.press("Shift+Tab" if back else "Tab")
        time.sleep(0.05)
    raise AssertionError(f"no {want!r} within {limit} presses; passed {seen[-30:]}")


def press(page, key: str) -> None:
    page.keyboard.press(key)
    time.sleep(0.5)
    wait_idle(page, timeout=120)


def status_said(page, pattern: str, timeout: float = 60) -> str:
    """Wait until a screen reader's status region on the page says ``pattern``."""
    regions = page.locator(".sl-status[role='status']")
    end = time.time() + timeout
    while time.time() < end:
        for k in range(regions.count()):
            text = regions.nth(k).inner_text()
            if re.search(pattern, text):
                return text
        time.sleep(0.3)
    raise AssertionError(
        f"no status region said {pattern!r}: {[regions.nth(k).inner_text() for k in range(regions.count())]}"
    )


def picked_classes(page, same: bool, timeout: float = 30) -> tuple[str, str]:
    """Wait until the two sides' test digits are of one class (``same``) or of two, by their captions."""
    captions = page.get_by_text(re.compile(r"^Test digit #\d+: a \w+$"))
    end = time.time() + timeout
    while time.time() < end:
        texts = [captions.nth(k).inner_text() for k in range(captions.count())]
        if len(texts) == 2:
            a, b = (t.rsplit(" ", 1)[1] for t in texts)
            if (a == b) == same:
                return a, b
        time.sleep(0.3)
    raise AssertionError(f"the sides' digits are not {'one class' if same else 'two classes'}: {texts}")


def verdict(page) -> None:
    """The status region's verdict agrees with its own distance and threshold."""
    text = status_said(page, r"^(Same digit|Different digits): distance [\d.]+, threshold [\d.]+")
    distance, threshold = (float(x) for x in re.findall(r"(\d+\.\d+)", text)[:2])
    if distance != threshold:  # equal at three decimals: either side of it
        assert text.startswith("Same digit") == (distance < threshold), text


def wait_focus(page, predicate: str, what: str, timeout: float = 20) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if page.evaluate(predicate):
            return
        time.sleep(0.2)
    raise AssertionError(f"the focus is not {what}: {page.evaluate(FOCUSED_KEY)!r} / {focus_text(page)!r}")


def step_box(page, k: int) -> None:
    page.locator("[class*='st-key-lesson-box']").filter(has_text=f"step {k} of").wait_for(timeout=120_000)
    wait_idle(page)
    wait_focus(page, IN_BOX, f"in the lesson's box at step {k}")


def test_the_lesson_a_training_and_a_post_with_the_keyboard_alone(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(server["url"] + "/train?" + urlencode(TINY))  # the teacher's link: a small setup
    wait_idle(page, timeout=300)

    # Home by the sidebar, then the lesson's own button
    tab_until(page, "Home")
    press(page, "Enter")
    page.get_by_role("heading", name="Siamese Lab").first.wait_for()
    tab_until(page, lambda t: t.endswith("Start the guided lesson"))
    press(page, "Enter")

    # step 1, Compare: both sides to Test digit (arrow keys in the radio group), then Same and Other class
    step_box(page, 1)
    for side in "AB":
        tab_until(page, "Draw")  # the checked option of the side's input group takes the focus
        for _ in range(3):  # Draw → Upload → Camera → Test digit
            press(page, "ArrowRight")
        assert focus_text(page) == "Test digit", (side, focus_text(page))
    tab_until(page, lambda t: t.endswith("Same class"))  # side B's, after its radio group
    press(page, "Enter")
    picked_classes(page, same=True)
    verdict(page)  # the network may call a hard pair of one class different: its verdict, told rightly
    page.keyboard.press("Tab")
    assert focus_text(page).endswith("Other class")
    press(page, "Enter")
    picked_classes(page, same=False)
    verdict(page)
    no_traceback(page)

    # step 2, Weight-sharing lab: Space on the switch changes the counts
    tab_until(page, lambda t: t.endswith("Next"), back=True)
    press(page, "Enter")
    step_box(page, 2)
    total = page.locator("[data-testid='stMetric']").filter(has_text="Total parameters")
    before = total.locator("[data-testid='stMetricValue']").inner_text()
    tab_until(page, "Share weights between the branches")
    press(page, "Space")
    assert total.locator("[data-testid='stMetricValue']").inner_text() != before
    press(page, "Space")
    assert total.locator("[data-testid='stMetricValue']").inner_text() == before
    no_traceback(page)

    # step 3, Train: Start; the focus moves to Pause or Stop, then back to Start when it is over
    tab_until(page, lambda t: t.endswith("Next"), back=True)
    press(page, "Enter")
    step_box(page, 3)
    tab_until(page, lambda t: t.endswith("Start") and "guided" not in t)
    page.keyboard.press("Enter")
    wait_focus(
        page,
        "() => ['st-key-train-pause', 'st-key-train-stop'].includes((" + FOCUSED_KEY + ")())",
        "on Pause or Stop",
    )
    result = status_said(page, r"^Training finished: test pair accuracy [\d.]+% at threshold", timeout=300)
    wait_focus(page, "() => (" + FOCUSED_KEY + ")() === 'st-key-train-start'", "on Start after the run")
    no_traceback(page)

    # step 4, on the same page: Next keeps the focus in the box
    tab_until(page, lambda t: t.endswith("Next"), back=True)
    press(page, "Enter")
    step_box(page, 4)

    # the run posted to the student's own board, by the sidebar link and the keyboard
    tab_until(page, "Class board", back=True)
    press(page, "Enter")
    page.get_by_role("heading", name="Class board").first.wait_for()
    tab_until(page, "Your nickname on your own board")
    page.keyboard.type("Kim")
    press(page, "Enter")
    tab_until(page, lambda t: t.endswith("Post"))
    press(page, "Enter")
    page.get_by_text(re.compile("^Posted to")).first.wait_for()
    accuracy = re.search(r"accuracy ([\d.]+)%", result).group(1)
    assert (
        page.get_by_test_id("stDataFrame").first.inner_text().count(accuracy[:4]) >= 0
    )  # shown on the board
    no_traceback(page)
    shot(page, "keyboard-posted")
    context.close()
