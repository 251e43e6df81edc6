"""Compare, in a real browser, after a visit to another page: what the student drew, uploaded,
picked and switched on is as they left it (issue 24, item 13)."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PIL import Image

from .conftest import draw, goto_nav, metric_value, no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser

ONE = [[(0.5, 0.15), (0.5, 0.85)]]
SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
INK = """upper => {
    const c = upper.previousElementSibling;  // Fabric's drawing layer, under the mouse layer
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let k = 0; k < d.length; k += 4) if (d[k] > 128) n++;
    return n;
}"""  # white pixels on a canvas's drawing


def ink(page, index: int) -> int:
    return page.locator("canvas.upper-canvas").nth(index).evaluate(INK)


def verdict(page) -> str:
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_text(re.compile("Same digit|Different digits")).first.wait_for(timeout=60_000)
    return main.get_by_text(re.compile("Same digit|Different digits")).first.inner_text()


def test_both_drawings_the_verdict_and_the_twins_switch_survive_another_page(page):
    page.goto(page.base_url + "/compare")
    wait_idle(page, timeout=300)  # the first page of a fresh server also starts its workers
    draw(page, 0, ONE)
    wait_idle(page)
    draw(page, 1, SEVEN)
    wait_idle(page)
    said, distance = verdict(page), metric_value(page, "Distance")
    drawn = ink(page, 0), ink(page, 1)
    assert min(drawn) > 500, drawn  # both strokes are on the canvases
    page.get_by_text("Show what each branch computes").click()
    wait_idle(page)
    page.get_by_text("One branch, called twice").wait_for()
    goto_nav(page, "Evaluate")
    goto_nav(page, "Compare")
    page.locator("canvas.upper-canvas").nth(1).wait_for()
    wait_idle(page)
    assert verdict(page) == said and metric_value(page, "Distance") == distance
    assert page.get_by_role("switch", name="Show what each branch computes").is_checked()
    page.get_by_text("One branch, called twice").wait_for()
    deadline = time.time() + 15  # a canvas draws its kept drawing once its component has loaded
    while (again := (ink(page, 0), ink(page, 1))) != drawn and time.time() < deadline:
        time.sleep(0.3)
    assert again == drawn, (drawn, again)  # the same strokes, pixel for pixel
    no_traceback(page)
    shot(page, "compare-after-another-page")
    # Clear empties that canvas only, and for good
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Clear").nth(0).click()
    wait_idle(page)
    page.get_by_text("Draw a digit on the canvas").first.wait_for()
    assert ink(page, 0) == 0 and ink(page, 1) == drawn[1]


def test_an_upload_and_a_test_digit_pick_survive_another_page(page, tmp_path):
    page.goto(page.base_url + "/compare")
    wait_idle(page, timeout=300)  # the first page of a fresh server also starts its workers
    main = page.get_by_test_id("stMainBlockContainer")
    page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(0).get_by_text("Test digit").click()
    wait_idle(page)
    picked = main.get_by_text(re.compile(r"Test digit #\d+")).first.inner_text()
    img = np.full((120, 120), 255, np.uint8)  # a black-on-white 1 on paper
    img[15:105, 55:65] = 0
    path = tmp_path / "one.png"
    Image.fromarray(img).save(path)
    page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(1).get_by_text("Upload").click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))
    wait_idle(page)
    said, distance = verdict(page), metric_value(page, "Distance")
    goto_nav(page, "Embeddings")
    goto_nav(page, "Compare")
    assert main.get_by_text(re.compile(r"Test digit #\d+")).first.inner_text() == picked
    main.get_by_text("one.png").first.wait_for()  # the picture is still the one uploaded, by name
    assert main.get_by_text("your picture (grey, ink light)").count() == 1
    assert verdict(page) == said and metric_value(page, "Distance") == distance
    no_traceback(page)
    shot(page, "compare-upload-after-another-page")
