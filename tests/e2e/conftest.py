"""The real app, served by `streamlit run app.py`, driven in Debian's headless Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from siamese_ui.live_panel import PROGRESS_CLASS
from tests.helpers import tensorflow_in

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SIAMESE_LAB_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).parent / "screenshots"
LOGS = Path(tempfile.gettempdir()) / "siamese-lab-test-logs"  # server logs: never in the tree


def _need_browser():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("SIAMESE_LAB_REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium package")
    pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    *extra: str, log_name: str = "server.log", env: dict | None = None, wrap: tuple[str, ...] = ()
) -> dict:
    """`streamlit run app.py` on a free port; returns {"url", "proc"} once it answers. ``wrap``:
    a command the server is started through (a benchmark's control group: it ``exec``s the server,
    so the process is the server's)."""
    _need_browser()
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / log_name, "w")  # noqa: SIM115 (closed by stop_server)
    proc = subprocess.Popen(
        [
            *wrap,
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not start: see {LOGS / log_name}")
    return {"url": url, "proc": proc, "log": log}


def stop_server(server: dict) -> None:
    """Stop it, after checking that the web server never loaded TensorFlow (issue 26: model work
    belongs to the model service's processes, whatever the browser tests did on its pages)."""
    loaded = tensorflow_in(server["proc"].pid) if server["proc"].poll() is None else []
    server["proc"].terminate()
    try:
        server["proc"].wait(10)
    except subprocess.TimeoutExpired:
        server["proc"].kill()
    server["log"].close()
    assert not loaded, f"the web server loaded TensorFlow: {loaded[:3]}"
    # nothing the browser tests did may leave a traceback, nor Streamlit's "was created with a default
    # value but also had its value set via the Session State API" (the app does that on purpose:
    # .streamlit/config.toml turns the warning off; a log read it as a mistake, with a stack)
    said = Path(server["log"].name).read_text(errors="replace")
    for line in ("Traceback (most recent call last)", "had its value set via the Session State API"):
        assert line not in said, f"{server['log'].name}: {said[said.index(line) - 300 :][:3000]}"


@pytest.fixture(scope="session")
def server():
    s = start_server()
    yield s
    stop_server(s)


@pytest.fixture(scope="session")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.base_url = server["url"]
    yield pg
    context.close()


def wait_idle(page, timeout: float = 90) -> None:
    """Wait until the app has rendered and its script is no longer running."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
    end = time.time() + timeout
    while time.time() < end:
        state = page.get_attribute("[data-testid='stApp']", "data-test-script-state")
        if state and state != "running" and page.locator("[data-testid='stMain']").count():
            time.sleep(0.3)
            if page.get_attribute("[data-testid='stApp']", "data-test-script-state") != "running":
                return
        time.sleep(0.2)
    raise TimeoutError("the app kept running")


def no_traceback(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:2000]


def page_language(page, expected: str, timeout: float = 15) -> str:
    """The page's declared language once it says ``expected``, or what it says after ``timeout``.
    The sidebar's script sets it from Streamlit's ``st.html`` element, a component the browser
    loads lazily: the page's text can be drawn before the script has run (a CI run read "en" on
    a Chinese page)."""
    with contextlib.suppress(Exception):  # what it says instead is the caller's assertion message
        page.wait_for_function(
            f"document.documentElement.lang === {expected!r}", timeout=timeout * 1000, polling=100
        )
    return page.evaluate("document.documentElement.lang")


def goto_nav(page, title: str) -> None:
    """Change page by the sidebar link: stays in the same Streamlit session."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    time.sleep(0.5)
    wait_idle(page)


def shot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


PROGRESS = "." + PROGRESS_CLASS  # the Train page's progress line


def progress_step(page) -> int:
    """The batch number on the Train page's progress line, -1 before it shows one."""
    m = re.search(r"batch ([\d,]+) of ", page.locator(PROGRESS).first.inner_text())
    return int(m.group(1).replace(",", "")) if m else -1


# ---- from test_browser.py ----------------------------------------------------------------
def metric_value(page, label: str) -> str:
    page.locator("[data-testid='stMetricLabel']").filter(has_text=label).first.wait_for()
    wait_idle(page)
    metrics = page.locator("[data-testid='stMetric']")
    for k in range(metrics.count()):
        m = metrics.nth(k)
        if m.locator("[data-testid='stMetricLabel']").inner_text().strip() == label:
            return m.locator("[data-testid='stMetricValue']").inner_text().strip()
    raise AssertionError(f"no metric labelled {label!r}")


def draw(page, index: int, strokes) -> None:
    canvas = page.locator("canvas.upper-canvas").nth(index)  # CSS locators pierce the shadow DOM
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()  # the mouse draws where the window shows it
    box = canvas.bounding_box()
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


# ---- accessibility ---------------------------------------------------------------------------------
# axe-core (the axe-playwright-python package ships it) with the WCAG 2.1 A and AA rules, the level
# schools are held to. Serious and critical violations fail the test; the moderate and minor ones
# that remain are listed in the README's "Accessibility" section with the reason each is left.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def assert_accessible(page, state: str) -> list[dict]:
    """No serious or critical WCAG 2.1 AA violation on the page as it is now (``state`` names it in
    the failure); returns the lesser ones."""
    wait_idle(page)
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    report = "\n".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}): {v['help']}\n    "
        + "\n    ".join(
            f"{n['html'][:160]} | {(n.get('any') or [{}])[0].get('message', '')[:200]}"
            for n in v["nodes"][:4]
        )
        for v in blocking
    )
    assert not blocking, f"{state}:\n{report}"
    return [v for v in violations if v["impact"] not in BLOCKING]
