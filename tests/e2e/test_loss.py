"""The contrastive loss on the Train page in a real browser: the formula rendered as mathematics,
the plot of a same and a different pair's loss against the distance, moving with the margin."""

from __future__ import annotations

import pytest

from siamese_core.config import PRESETS

from .conftest import no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser


def test_the_loss_formula_and_plot_follow_the_margin(page):
    page.goto(page.base_url + "/train?train.preset=classroom")
    wait_idle(page)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_text("What the margin does: the contrastive loss").click()
    wait_idle(page)
    panel = (
        main.get_by_test_id("stExpander").filter(has_text="What the margin does").last
    )  # (inside the form's)
    panel.locator(".katex").first.wait_for(
        timeout=30_000
    )  # the formula, typeset (KaTeX draws after the rerun)
    chart = panel.locator(".js-plotly-plot")
    chart.wait_for()
    chart.get_by_text(f"margin m = {PRESETS['classroom'].margin:g}").wait_for()  # the preset's margin
    chart.get_by_text("same digit (y = 1): d²").wait_for()
    no_traceback(page)
    panel.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "loss")
    margin = main.get_by_role("spinbutton", name="Margin")
    margin.fill("1.25")
    margin.press("Enter")
    wait_idle(page)
    panel.locator(".js-plotly-plot").get_by_text("margin m = 1.25").wait_for(state="attached")  # redrawn
    no_traceback(page)
