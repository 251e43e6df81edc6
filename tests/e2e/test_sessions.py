"""Students at once, in real browsers: the training limit, the line, closed tabs.

The server runs one training at a time (SIAMESE_LAB_MAX_TRAININGS=1: the line forms with two
students, and one training keeps one core busy, not two), with a 1 s grace for closed tabs (15 s
by default), forgetting closed sessions after 2 s (Streamlit's default is 120 s), so the test can
watch them go. Threads and memory over many closed tabs: benchmarks/bench_closed_tabs.py.
"""

from __future__ import annotations

import re
import time

import pytest

from .conftest import no_traceback, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

LONG = "/train?train.dataset=mnist-5k&train.branch=mlp&train.embedding_dim=16&train.optimizer=adam&train.epochs=500&train.pairs_per_epoch=8192&train.batch_size=64&train.steps_per_execution=1"


@pytest.fixture(scope="module")
def busy_server():
    s = start_server(
        "--server.disconnectedSessionTTL",
        "2",
        log_name="server-sessions.log",
        env={"SIAMESE_LAB_DISCONNECT_GRACE": "1", "SIAMESE_LAB_MAX_TRAININGS": "1"},
    )
    yield s
    stop_server(s)


def main_button(page, name: str):
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True)


def start_training(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + LONG)
    wait_idle(page)
    main_button(page, "Start").click()
    return context, page


def slots_in_use(page, url: str) -> int:
    """The Train page's own count of trainings running or waiting on the server, read by a
    bystander."""
    page.goto(url + "/train")
    wait_idle(page)
    text = page.get_by_text("trainings running").first.inner_text()
    found = re.search(r"(\d+) of \d+ trainings running, (\d+) waiting", text)
    return int(found.group(1)) + int(found.group(2))


def wait_slots(page, url: str, want: int, timeout: float = 60) -> int:
    end = time.time() + timeout
    while (n := slots_in_use(page, url)) != want and time.time() < end:
        time.sleep(1)
    return n


def test_limit_isolation_and_closed_tabs(browser, busy_server):
    url = busy_server["url"]
    watcher = browser.new_context().new_page()
    watcher.set_default_timeout(60_000)
    a_ctx, a = start_training(browser, url)
    a.get_by_text("Training ·").first.wait_for()
    assert wait_slots(watcher, url, 1) == 1  # (the server's own warm-up jobs go first, then leave)
    # a second student waits in line (no refusal), and starts by itself when A stops
    b_ctx, b = start_training(browser, url)
    b.get_by_text(re.compile(r"\d+(st|nd|rd|th) in line")).first.wait_for()
    no_traceback(b)
    assert b.get_by_text("Training ·").count() == 0
    assert not main_button(b, "Start").is_enabled()  # one queued or running training per student
    assert slots_in_use(watcher, url) == 2
    main_button(a, "Stop").click()
    a.get_by_text("Stopped (stopped by the user)").wait_for()
    b.get_by_text("Training ·").first.wait_for()  # nobody clicked: the line moved
    b_step = b.get_by_text("Training ·").first.inner_text()
    end = time.time() + 60  # B has just started: its first batches wait for its graph to build
    while b.get_by_text("Training ·").first.inner_text() == b_step and time.time() < end:
        time.sleep(1)
    assert b.get_by_text("Training ·").first.inner_text() != b_step, "B's training should keep going"
    assert a.get_by_text("Stopped (stopped by the user)").count() == 1, "A's result must stay"
    for p in (a, b):
        no_traceback(p)
    # closing the tabs stops their trainings and frees their slots
    for ctx in (a_ctx, b_ctx):
        ctx.close()
    assert wait_slots(watcher, url, 0) == 0
    watcher.context.close()
