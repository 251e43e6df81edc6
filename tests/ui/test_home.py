"""Home in streamlit's AppTest: its table names every page of the navigation, a preset button puts
the preset in the address, and a server without internet says so in words."""

from __future__ import annotations

import logging
import socket
import urllib.error

from siamese_core.config import DEFAULT_PRESET, PRESETS
from tests.helpers import app, click, form


def test_what_each_page_teaches_has_a_row_for_every_page_of_the_navigation():
    from siamese_ui.navigation import PAGES

    at = app()
    table = at.table[0].value
    assert list(table.columns) == ["Page", "The lesson"]
    pages_shown = list(table["Page"])
    # every page the sidebar lists, in the sidebar's order, but Home itself (the page being read)
    assert pages_shown == [page.title for page in PAGES if page.key != "home"]
    assert "Class board" in pages_shown and "Teacher" in pages_shown
    assert all(len(text) > 20 for text in table["The lesson"])  # a sentence each, not a blank
    for page in PAGES:  # and the table is the navigation's: each of its pages opens in the app
        at.switch_page(page.file).run()
        assert not at.exception, (page.key, [e.value for e in at.exception])


def test_a_preset_button_puts_the_preset_in_the_address():
    """A reload rebuilds the form from the address: the preset must be there (issue 24, item 9)."""
    other = next(name for name in PRESETS if name != DEFAULT_PRESET)
    at = app()
    click(at, f"home.preset.{other}")
    assert at.title[0].value == "Train"
    assert at.query_params.get("train.preset") == other
    assert form(at)["epochs"] == PRESETS[other].epochs
    # the address alone (a reload, a fresh session) reopens the same form
    reloaded = app("pages/train.py", dict(at.query_params))
    assert reloaded.selectbox(key="train.preset").value == other and form(reloaded) == form(at)
    # the default preset needs no word in the address, as the Train page's own Preset box writes it
    back = app()
    click(back, f"home.preset.{DEFAULT_PRESET}")
    assert back.title[0].value == "Train" and "train.preset" not in back.query_params


def test_a_server_without_internet_says_so_in_words_and_logs_the_raw_reason(tmp_path, monkeypatch, caplog):
    from siamese_core.network import data
    from siamese_ui.resources import resolved_dataset_name

    def no_dns(*args, **kwargs):  # what urlopen raises when the name does not resolve
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    from siamese_ui.resources import worker_pool

    worker_pool()  # started before the patch: its workers must not inherit this test's KERAS_HOME
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached full MNIST
    monkeypatch.setattr(data.urllib.request, "urlopen", no_dns)
    resolved_dataset_name.clear()
    try:
        with caplog.at_level(logging.WARNING, logger="siamese_ui.resources"):
            at = app()
        captions = [c.value for c in at.caption]
        reason = next(c for c in captions if "internet" in c)
        assert reason.startswith("No internet connection, so the app uses the embedded 5,000 MNIST digits.")
        assert "again every 10 minutes" in reason
        assert not any("urlopen" in c or "Errno" in c for c in captions)
        assert any(m.value == "MNIST 5k subset" for m in at.metric)
        assert "Name or service not known" in caplog.text  # the raw reason, for whoever reads the log
    finally:
        resolved_dataset_name.clear()  # the next test finds the server's real answer
