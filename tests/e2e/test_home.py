"""Home in real headless Chromium: a preset button opens Train with the preset in the address, and
a reload keeps it (the address bar holds the experiment, whichever way it was set up)."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest

from siamese_core.config import DEFAULT_PRESET, LABELS, PRESETS

from .conftest import no_traceback, wait_idle

pytestmark = pytest.mark.browser

MAIN = "[data-testid='stMainBlockContainer']"


def shown_form(page) -> tuple[str, str]:
    """The Train form's Preset and Epochs, as the browser shows them."""
    preset = (
        page.locator(f"{MAIN} [data-testid='stSelectbox']").filter(has_text="Preset").first.locator("input")
    )
    epochs = page.locator(f"{MAIN} [data-testid='stNumberInput']").filter(
        has=page.locator("label", has_text=re.compile(f"^{LABELS['epochs']}$"))
    )
    return preset.input_value(), epochs.first.locator("input").input_value()


@pytest.mark.timeout(1800)  # a fresh server on a loaded machine: minutes before the first page
def test_a_preset_button_puts_the_preset_in_the_address_and_a_reload_keeps_it(page):
    name = next(
        n for n in PRESETS if n != DEFAULT_PRESET and PRESETS[n].epochs != PRESETS[DEFAULT_PRESET].epochs
    )
    page.goto(page.base_url)
    wait_idle(page, timeout=600)  # maybe the server's first page: it waits for the warm-up
    page.locator(MAIN).get_by_role("button", name=name, exact=True).click()
    time.sleep(0.5)
    wait_idle(page, timeout=120)
    page.locator("h1", has_text="Train").first.wait_for()
    no_traceback(page)
    assert parse_qs(urlparse(page.url).query).get("train.preset") == [name], page.url
    expected = (name, str(PRESETS[name].epochs))
    assert shown_form(page) == expected
    page.reload()
    wait_idle(page, timeout=120)
    page.locator("h1", has_text="Train").first.wait_for()
    assert shown_form(page) == expected, page.url  # not the classroom preset it fell back to
    no_traceback(page)
