"""Inside the twins (Compare) in a real browser: the pretrained (shared) model gives A's digit the
same embedding through both branches; a model trained here without sharing does not."""

from __future__ import annotations

import re

import pytest

from .conftest import assert_accessible, goto_nav, no_traceback, shot, wait_idle

pytestmark = pytest.mark.browser

UNSHARED = (
    "/train?train.dataset=mnist-5k&train.branch=tiny-cnn&train.embedding_dim=16&train.optimizer=adam"
    "&train.epochs=1&train.pairs_per_epoch=1024&train.batch_size=64&train.steps_per_execution=1&train.shared=false"
)


def show_twins(page) -> None:
    main = page.get_by_test_id("stMainBlockContainer")
    for k in range(2):
        page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(k).get_by_text(
            "Test digit"
        ).click()
        wait_idle(page)
    main.get_by_text(re.compile("Same digit|Different digits")).first.wait_for(timeout=60_000)
    main.get_by_text("Show what each branch computes").click()
    wait_idle(page)


def test_inside_the_twins_shared_then_unshared(page):
    main = page.get_by_test_id("stMainBlockContainer")
    page.goto(page.base_url + "/compare")
    wait_idle(page)
    show_twins(page)
    main.get_by_text("One branch, called twice").wait_for()
    main.get_by_text(re.compile(r"largest difference between the two embeddings is 0")).wait_for()
    assert main.get_by_test_id("stImage").filter(has_text="branch B").count() >= 4  # every layer, both views
    no_traceback(page)
    # a network trained here with two branches
    page.goto(page.base_url + UNSHARED)
    wait_idle(page)
    main.get_by_role("button", name="Start", exact=True).click()
    main.get_by_text(re.compile(r"Test pair accuracy [\d.]+% at threshold")).wait_for(timeout=180_000)
    goto_nav(page, "Compare")  # the same session: the model just trained is the active one
    show_twins(page)
    main.get_by_text("Two branches").first.wait_for()
    warning = main.get_by_text(re.compile(r"differ by up to [\d.e+-]+ in one number")).first
    warning.wait_for()
    no_traceback(page)
    main.get_by_text("Inside the twins").evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "twins")
    assert_accessible(page, "Compare, inside the twins of an unshared network")
