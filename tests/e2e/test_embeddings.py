"""The Embeddings page's digit map in a real browser, on a wide screen and on a phone: a click picks a
point without fading every other point, and the chart's toolbar leaves the legend's title readable."""

from __future__ import annotations

import re

import pytest

from .conftest import no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser

OPACITY = 0.8  # siamese_ui/scatter.py draws every digit at this opacity


def overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def digit_opacities(chart) -> list[float]:
    """The opacity of every digit's marker (the traces of the digits, not the chosen point's ring)."""
    return chart.locator(".scatterlayer path.point").evaluate_all(
        """points => points.map(p => getComputedStyle(p))
            .filter(style => parseFloat(style.fillOpacity) > 0)  // the ring is an empty circle
            .map(style => parseFloat(style.opacity))"""
    )


@pytest.mark.parametrize("width", [1400, 390])
def test_a_click_picks_a_point_without_fading_the_others_and_the_legend_title_stays_clear(
    browser, server, width
):
    context = browser.new_context(viewport={"width": width, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(180_000)
    try:
        page.goto(server["url"] + "/embeddings")
        wait_idle(page, 300)
        no_traceback(page)
        chart = page.locator("[data-testid='stPlotlyChart']").first
        chart.locator(".scatterlayer path.point").first.wait_for()
        chart.scroll_into_view_if_needed()
        chart.hover()  # the toolbar shows while the pointer is over the chart
        toolbar = chart.locator(".modebar").bounding_box()
        title = chart.locator(".legendtitletext").bounding_box()
        assert toolbar and title and not overlap(toolbar, title), (toolbar, title)
        assert set(digit_opacities(chart)) == {OPACITY}

        number = page.locator("input[aria-label='Point number']")
        before = number.input_value()
        points = chart.locator(".scatterlayer .trace").first.locator("path.point")
        box = points.nth(points.count() // 2).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "before => document.querySelector('[aria-label=\"Point number\"]').value !== before", arg=before
        )
        wait_idle(page, 300)
        no_traceback(page)
        picked = int(number.input_value())
        assert page.get_by_text(re.compile(rf"Nearest neighbours of point {picked}\b")).count() == 1
        opacities = digit_opacities(chart)
        assert len(opacities) >= 200 and set(opacities) == {OPACITY}, sorted(set(opacities))  # none faded
        chart.hover()
        toolbar = chart.locator(".modebar").bounding_box()
        title = chart.locator(".legendtitletext").bounding_box()
        assert not overlap(toolbar, title), (toolbar, title)
        chart.screenshot(path=str(shot(page, f"embeddings-{width}").with_name(f"embeddings-map-{width}.png")))
    finally:
        context.close()
