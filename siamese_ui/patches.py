"""Every use of Streamlit's private internals, in one place, each guarded and tested.

Streamlit offers no public switch for any of these. Each patch checks that the Streamlit it
runs on is the minor version it was read against (``TESTED_STREAMLIT``) and that the thing it
replaces is still there; otherwise it does nothing and says so once in the server's log, and
the app runs as plain Streamlit would (slower, or with the limitation the patch removes).
``tests/ui/test_patches.py`` fails when Streamlit changes what a patch relies on.

- :func:`keep_keras_state_between_reruns`: applied from ``app.py`` at start.
- :func:`route_first_deep_link_through_app`: called first by every page (the request it repairs
  never runs ``app.py``); ``tests/ui/test_patches.py`` checks that each page of the table calls it.
- :func:`session_is_open`: read from training threads (is a student's tab still there?).
- :func:`in_script_run`: asked by the language source before it reads a session's choice.
"""

from __future__ import annotations

import logging
import sys

import streamlit as st

TESTED_STREAMLIT = "1.67."  # the minor version these patches were read against and tested on
_log = logging.getLogger("siamese_ui.patches")
_warned: set[str] = set()


def _supported(what: str) -> bool:
    if st.__version__.startswith(TESTED_STREAMLIT):
        return True
    if what not in _warned:
        _warned.add(what)
        _log.warning("Streamlit %s is not %sx: %s left unpatched", st.__version__, TESTED_STREAMLIT, what)
    return False


def keep_keras_state_between_reruns() -> bool:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every script run.

    Streamlit 1.67's ``script_runner._clean_problem_modules`` resets Keras's global state
    after each run when Keras is imported. The Train page reruns a fragment about once a
    second per student, so this took 45% of the server's time (profiled with py-spy), cut a
    training's speed tenfold and reset Keras's state under trainings of other sessions.
    Models here live in session state and never rely on that clean-up. Matplotlib's
    ``close("all")``, the other half of the hook, is kept. Returns whether it is applied.
    """
    if not _supported("keras clear_session after each run"):
        return False
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is None:
        return False
    if getattr(original, "siamese_lab", False):
        return True

    def _clean_problem_modules() -> None:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")

    _clean_problem_modules.siamese_lab = True
    _clean_problem_modules.replaced = original
    script_runner._clean_problem_modules = _clean_problem_modules
    return True


def route_first_deep_link_through_app() -> None:
    """Run every page through app.py's ``st.navigation``, even on a fresh server.

    A ``pages/`` folder beside app.py (this product's fixed layout) makes Streamlit decide,
    once per server, that the app "uses the pages directory"; until some script calls
    ``st.navigation`` it runs a directly requested page file on its own, with Streamlit's old
    file-name menu. Streamlit documents no switch for this (its docs name the folder
    ``app_pages/`` instead). Clearing the flag and rerunning sends that first request through
    app.py like every later one.
    """
    if not _supported("first deep link"):
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def session_is_open(session_id: str) -> bool | None:
    """Is this browser session still connected? None when it cannot be asked (no runtime,
    as under AppTest or a bare ``python pages/x.py``, or a Streamlit without the method)."""
    if not _supported("closed-tab check"):
        return None
    try:
        from streamlit.runtime import exists, get_instance
    except ImportError:
        return None
    if not exists():
        return None
    runtime = get_instance()
    check = getattr(runtime, "is_active_session", None)
    return None if check is None else bool(check(session_id))


def in_script_run() -> bool:
    """Whether this thread is running a session's script (not a training or warm-up thread), asked
    without the warning Streamlit logs for threads that have no session."""
    return st.runtime.scriptrunner.get_script_run_ctx(suppress_warning=True) is not None


def current_session_id() -> str | None:
    """This script run's session id (None outside a running app)."""
    ctx = st.runtime.scriptrunner.get_script_run_ctx()
    return None if ctx is None else ctx.session_id
