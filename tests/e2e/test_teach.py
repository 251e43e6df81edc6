"""Issue 16's remaining items in a real browser: the glossary from any page, the source's own
number beside a keras-example run, the N-input pitfall's two fixes and its ratio, the margin on
Evaluate's histogram, and RankIQA's operator matrix."""

from __future__ import annotations

import re

import pytest

from .conftest import no_traceback, wait_idle

pytestmark = pytest.mark.browser

KERAS_EXAMPLE = "/train?train.preset=keras-example&train.dataset=mnist-5k&train.epochs=1"


def main(page):
    return page.get_by_test_id("stMainBlockContainer")


def test_glossary_source_pitfall_margin_and_operator(page):
    # the glossary, from a page that is not Home
    page.goto(page.base_url + "/evaluate")
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_text("Glossary").click()
    page.get_by_test_id("stSidebar").get_by_text(re.compile(r"MAP@R: Mean average precision")).wait_for()
    # Evaluate's histogram carries the model's margin
    main(page).locator(".js-plotly-plot").get_by_text(re.compile(r"margin m")).first.wait_for(
        state="attached"
    )
    no_traceback(page)

    # a keras-example run: the source's 97.2% beside the student's number
    page.goto(page.base_url + KERAS_EXAMPLE)
    wait_idle(page)
    main(page).get_by_role("button", name="Start", exact=True).click()
    source = main(page).get_by_text(re.compile(r"Gets to 97\.2% test accuracy after 20 epochs"))
    source.wait_for(timeout=180_000)
    alert = main(page).get_by_test_id("stAlert").filter(has_text="Gets to 97.2%").first.inner_text()
    assert re.search(r"Yours: [\d.]+% after 1 epoch", alert), alert
    no_traceback(page)

    # the N-input pitfall: both fixes equal, the ratio explained with the computed counts
    page.goto(page.base_url + "/weight_sharing?ws.n_inputs=4")
    wait_idle(page)
    why = main(page).locator("p").filter(has_text="Why the ratio stays below N").first
    why.wait_for()
    assert re.search(r"\(4 · 7,096,896 \+ 328,579\) / \(7,096,896 \+ 328,579\) = 3\.87", why.inner_text())
    chart = main(page).locator(".js-plotly-plot").filter(has_text="builder wrapped in one keras.Model")
    chart.wait_for(state="attached")
    no_traceback(page)

    # RankIQA: the operator matrix O of the post's setting (6 levels: 6 x 5)
    page.goto(page.base_url + "/lessons")
    wait_idle(page)
    main(page).get_by_role("tab", name=re.compile("RankIQA|rank", re.I)).click()
    wait_idle(page)
    main(page).get_by_text("The operator matrix O (6 x 5)").wait_for()
    no_traceback(page)
