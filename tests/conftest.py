import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import siamese_core  # noqa: F401  (first: it loads PostgreSQL's TLS library before any test loads TensorFlow)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The class board's SQLite file: never the user's own (~/.siamese-lab), for the app in AppTest and
# for every server the browser tests start (they inherit this environment).
os.environ.setdefault(
    "SIAMESE_LAB_BOARD_PATH", os.path.join(tempfile.mkdtemp(prefix="siamese-lab-board-"), "board.sqlite")
)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def small_data():
    """The embedded 5,000 digits: always available offline, never full MNIST."""
    from siamese_core.network.data import load_dataset

    return load_dataset("mnist-5k", seed=0)


@pytest.fixture(scope="session", autouse=True)
def apptest_runs_as_a_server_past_its_first_request():
    """AppTest resets Streamlit's ``PagesManager.uses_pages_directory`` before every run
    (streamlit/testing/v1/app_test.py), so every click replays a fresh server's first request:
    with a ``pages/`` folder, Streamlit then runs the page file alone, without app.py and its
    frame, and the app's deep-link patch (siamese_ui/patches.py) reruns it through app.py,
    dropping the click. A real server is fresh once. Here each AppTest run starts as a server
    past its first request; a fresh server's first deep link is tested in a real browser
    (tests/e2e/test_lesson.py opens /weight_sharing?lesson=on first on its own server)."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    yield
    PagesManager.__init__ = original


@pytest.fixture
def board_path(tmp_path, monkeypatch):
    """A class board of the test's own (SQLite in its tmp folder), for the app it runs."""
    path = tmp_path / "board.sqlite"
    monkeypatch.setenv("SIAMESE_LAB_BOARD_PATH", str(path))
    monkeypatch.delenv("SIAMESE_LAB_BOARD_URL", raising=False)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---- two test processes (pytest-xdist, --dist loadgroup in pyproject.toml) ----------------------------
@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the mark to group them
def pytest_collection_modifyitems(config, items):
    """The browser tests run in two streams, each one test after another from the start: those
    on the suite's shared server, and those that start servers of their own (a class board, a
    PIN, a training limit). Two streams, not one per file: more browsers at once overloaded a
    2-core machine until its timings failed. Every other test goes to whichever process is free."""
    for item in items:
        if "e2e" in item.path.relative_to(ROOT).parts:
            shared = "server" in getattr(item, "fixturenames", ())
            item.add_marker(pytest.mark.xdist_group("browser" if shared else "browser-own-server"))


# ---- the coverage floor for the app's pages and shared UI code --------------------------------------
UI_FOLDERS = ("pages", "siamese_ui")


def pytest_addoption(parser):
    parser.addini(
        "ui_coverage_floor",
        "percent of the lines of pages/ and siamese_ui/ the whole suite must run",
        default="0",
    )


def _whole_suite(config) -> bool:
    """The run was the README's `python -m pytest`: every test path, nothing selected away."""
    option = config.option
    return (
        [Path(a).resolve() for a in config.args] == [ROOT / p for p in config.getini("testpaths")]
        and not option.keyword
        and not option.markexpr
        and not getattr(option, "lf", False)
        and not getattr(option, "deselect", None)
        and not getattr(option, "stepwise", False)
    )


def ui_coverage(cov) -> float:
    """Percent of the lines of pages/ and siamese_ui/ run, from pytest-cov's combined data (the
    browser tests' servers included), files never imported counted as 0%."""
    import io

    return cov.report(include=[str(ROOT / folder / "*") for folder in UI_FOLDERS], file=io.StringIO())


UI_COVERAGE = pytest.StashKey[tuple[str, bool]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session):
    """After pytest-cov has combined its data (its own wrapper runs inside this one): the figure
    for pages/ and siamese_ui/, and a failed run when the whole suite ran and stays below the
    floor. (A total --cov-fail-under would mix in siamese_core, and fail every single-file run.)"""
    result = yield
    plugin = session.config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    if controller is None or controller.cov is None or session.config.option.collectonly:
        return result
    floor = float(session.config.getini("ui_coverage_floor"))
    percent = ui_coverage(controller.cov)
    whole = _whole_suite(session.config)
    below = whole and percent < floor
    if whole:
        verdict = "below the floor." if below else "at or above the floor."
        message = (
            f"Lines of pages/ and siamese_ui/ run by the suite: {percent:.1f}% (floor {floor:g}%): {verdict}"
        )
    else:
        message = f"Lines of pages/ and siamese_ui/ run by these tests: {percent:.1f}% (the floor is for the whole suite)."
    session.config.stash[UI_COVERAGE] = (message, below)
    if below:
        session.testsfailed += 1  # the exit status of a failed run
    return result


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, config):
    """The figure under pytest-cov's report."""
    if UI_COVERAGE in config.stash:
        message, below = config.stash[UI_COVERAGE]
        terminalreporter.write_line(message, red=below, bold=below)
