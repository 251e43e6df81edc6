"""The Weight-sharing lab's race in a real browser: one click, both curves live on one chart,
then the two networks side by side."""

from __future__ import annotations

import re

import pytest

from .conftest import assert_accessible, no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser


def test_the_race_shows_both_curves_live_then_the_two_networks(page):
    page.goto(page.base_url + "/weight_sharing")
    wait_idle(page)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_role("button", name="Race shared against unshared").click()
    # live: one chart per measure, each with a shared and an unshared line
    live = (
        main.locator("svg")
        .filter(has_text="shared: training loss")
        .filter(has_text="unshared: training loss")
    )
    live.first.wait_for(timeout=120_000)
    no_traceback(page)
    main.get_by_text(re.compile(r"d\(A, B\) ≠ d\(B, A\)")).wait_for(timeout=180_000)
    wait_idle(page)
    sentence = main.get_by_text(re.compile(r"network was more accurate|scored the same")).first.inner_text()
    assert "the shared network's distances are identical both ways (difference exactly 0);" in sentence, (
        sentence
    )
    assert re.search(r"with 2\.00× the parameters when unshared", sentence), sentence
    assert main.get_by_test_id("stDataFrame").filter(has_text="unshared").count() >= 1
    no_traceback(page)
    main.get_by_text("Race them: shared against unshared").evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "race")
    assert_accessible(page, "Weight-sharing lab with a race result")
