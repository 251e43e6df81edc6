"""The screen reader's status region (siamese_ui/announce.py): news at once, progress at most every
EVERY seconds. A timeline worked by hand."""

from __future__ import annotations

from siamese_ui.announce import EVERY, next_text


def test_progress_waits_news_does_not():
    assert EVERY == 10.0
    state = next_text(None, "Training · batch 1", "running", now=100.0)
    assert state == ("Training · batch 1", "running", 100.0)  # the first word is said at once
    state = next_text(state, "Training · batch 9", "running", now=104.0)
    assert state[0] == "Training · batch 1"  # 4 s later: progress waits
    state = next_text(state, "Training · batch 30", "running", now=110.0)
    assert state == ("Training · batch 30", "running", 110.0)  # 10 s later: said
    state = next_text(state, "Training · batch 31", "running", now=111.0)
    assert state[0] == "Training · batch 30"
    state = next_text(state, "Paused · batch 31", "paused", now=111.5)
    assert state == ("Paused · batch 31", "paused", 111.5)  # a new status is news at once
    state = next_text(state, "Paused · batch 31", "paused", now=200.0)
    assert state == ("Paused · batch 31", "paused", 111.5)  # the same words are not said again


def test_a_switch_of_language_is_said_at_once():
    """A student who trained in English and switches to Chinese must not keep hearing English."""
    from streamlit.testing.v1 import AppTest

    script = """
import streamlit as st
from siamese_core.i18n import _, use_language_source
from siamese_ui.announce import announce
use_language_source(lambda: st.session_state.get("lang", "en"))
st.session_state["said"] = announce("train", _("Train"), kind="finished", clock=lambda: 100.0)
"""
    from siamese_core.i18n import use_language_source

    try:
        at = AppTest.from_string(script).run()
        assert at.session_state["said"] == "Train"
        at.session_state["lang"] = "zh"
        at.run()
        assert at.session_state["said"] == "训练"  # the same second, the same status: said anyway
    finally:
        use_language_source(None)
