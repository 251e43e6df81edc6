"""Every page of the navigation at a laptop's 1400 px and a phone's 390 px, in English and in
Chinese: it renders without a traceback, nothing makes the page scroll sideways, and no button,
metric or tab label is cut off (its text wider than its box). The screenshots
(tests/e2e/screenshots/layout-<page>-<width>-<language>.png) are what a reviewer looks at."""

from __future__ import annotations

import pytest

from siamese_ui.navigation import PAGES

from .conftest import no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser

# Labels a reader must see whole: buttons, metrics' labels and values, tabs. Streamlit cuts a long
# one inside them (a markdown container with overflow hidden and an ellipsis): any element in them
# that clips and whose text is wider than its box is a label cut off.
LABELS = (
    "[data-testid='stMain'] button, [data-testid='stMetricLabel'], [data-testid='stMetricValue'],"
    " [data-testid='stMain'] [role='tab']"
)
CUT = f"""() => {{
  const shown = [...document.querySelectorAll("{LABELS}")].filter(e => e.offsetParent !== null);
  const clipped = e => getComputedStyle(e).overflowX !== "visible" && e.scrollWidth > e.clientWidth + 1;
  const cut = shown.filter(e => [e, ...e.querySelectorAll("*")].some(clipped));
  return [shown.length, cut.map(e => e.innerText.slice(0, 60))];
}}"""


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("width", [1400, 390])
def test_every_page_fits_the_width_without_sideways_scrolling(browser, server, width, language):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    measured = 0
    try:
        for info in PAGES:
            page.goto(server["url"] + ("/" if info.default else f"/{info.key}") + f"?lang={language}")
            wait_idle(page, timeout=240)
            # the page's elements drawn, not their placeholders: what is measured is what a student reads
            page.wait_for_function("document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0")
            no_traceback(page)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            shot(page, f"layout-{info.key}-{width}-{language}")
            assert overflow <= 1, (
                f"{info.title} scrolls sideways by {overflow} px at {width} px in {language}"
            )
            shown, cut = page.evaluate(CUT)
            measured += shown
            assert not cut, f"{info.title} at {width} px in {language}: labels cut off: {cut}"
        assert measured > 40, f"only {measured} labels measured: the selectors no longer match Streamlit's"
    finally:
        context.close()
