"""Each private Streamlit hook the app relies on: these fail when Streamlit changes what a patch
in siamese_ui/patches.py replaces or reads, so an upgrade cannot silently undo a fix."""

import inspect
import sys
import types

import streamlit as st

from siamese_ui import patches


def test_the_tested_streamlit_is_the_installed_one():
    assert st.__version__.startswith(patches.TESTED_STREAMLIT), (
        f"Streamlit {st.__version__}: re-read siamese_ui/patches.py against it, then update TESTED_STREAMLIT "
        "and the pin in requirements.txt"
    )


def test_streamlit_still_clears_keras_after_each_run_and_the_patch_stops_it(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    assert patches.keep_keras_state_between_reruns()
    patched = script_runner._clean_problem_modules
    original = patched.replaced
    calls = []
    fake_keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: calls.append(1)))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    original()  # what Streamlit does: clear Keras's state
    assert calls == [1]
    patched()  # what the app does instead
    assert calls == [1]
    # and Streamlit still looks the hook up by that module-level name after each run
    assert "_log_if_error(_clean_problem_modules)" in inspect.getsource(script_runner.ScriptRunner)


def test_the_pages_directory_flag_still_routes_deep_links():
    from streamlit.runtime import pages_manager
    from streamlit.runtime.scriptrunner import script_runner

    assert hasattr(pages_manager.PagesManager, "uses_pages_directory")
    source = inspect.getsource(script_runner.ScriptRunner)
    assert "if PagesManager.uses_pages_directory:" in source and "_mpa_v1(" in source


def test_open_sessions_can_be_asked():
    from streamlit.runtime.runtime import Runtime

    assert callable(Runtime.is_active_session)
    assert patches.session_is_open("no-such-session") is None  # no runtime in a test: "cannot tell"


def test_a_newer_streamlit_leaves_the_app_unpatched(monkeypatch, caplog):
    monkeypatch.setattr(st, "__version__", "9.0.0")
    assert patches._supported("something") is False
    assert "left unpatched" in caplog.text


def test_every_page_sends_a_fresh_servers_first_deep_link_through_app():
    """On a fresh server, the first request for /train runs pages/train.py alone (no app.py, no
    frame): each page's first statement after its imports is the call that reroutes it. Read from
    the page table, so a new page is checked too; and nothing applies it by being imported."""
    import ast

    from tests.helpers import ROOT, navigation_pages

    for file in navigation_pages():
        body = ast.parse((ROOT / file).read_text()).body
        first = next(
            node
            for node in body
            if not isinstance(node, ast.Import | ast.ImportFrom)
            and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        )
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Call), file
        assert ast.unparse(first.value) == "route_first_deep_link_through_app()", file
    assert "route_first" not in (ROOT / "siamese_ui" / "__init__.py").read_text()
