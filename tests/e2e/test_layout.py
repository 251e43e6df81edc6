"""Every page of the navigation at a laptop's 1400 px and a phone's 390 px: it renders without a
traceback and nothing makes the page scroll sideways. The screenshots (tests/e2e/screenshots/
layout-<page>-<width>.png) are what a reviewer looks at."""

from __future__ import annotations

import pytest

from siamese_ui.navigation import PAGES

from .conftest import no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1400, 390])
def test_every_page_fits_the_width_without_sideways_scrolling(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        for info in PAGES:
            page.goto(server["url"] + ("/" if info.default else f"/{info.key}"))
            wait_idle(page, timeout=240)
            no_traceback(page)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            shot(page, f"layout-{info.key}-{width}")
            assert overflow <= 1, f"{info.title} scrolls sideways by {overflow} px at {width} px"
    finally:
        context.close()
