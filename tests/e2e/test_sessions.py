"""Many students at once, in real browsers: isolation, the training limit, closed tabs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import no_traceback, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

LONG = "/train?dataset=mnist-5k&branch=mlp&embedding_dim=16&optimizer=adam&epochs=200&pairs_per_epoch=2048&batch_size=64"


def proc_stats(pid: int) -> tuple[int, float]:
    """(threads, resident MB) of the server process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


def training_threads(server) -> int:
    """Threads named by the training job, counted in the server process."""
    pid = server["proc"].pid
    names = [p.read_text().strip() for p in Path(f"/proc/{pid}/task").glob("*/comm")]
    return sum(n.startswith("siamese-train") for n in names)


@pytest.fixture(scope="module")
def short_ttl_server():
    # forget closed tabs after 2 s instead of Streamlit's 120 s, so the test can watch the memory go
    s = start_server("--server.disconnectedSessionTTL", "2", log_name="server-sessions.log")
    yield s
    stop_server(s)


def start_training(context, url):
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url + LONG)
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    return page


def test_limit_isolation_and_closed_tabs(browser, short_ttl_server):
    url = short_ttl_server["url"]
    a_ctx, b_ctx, c_ctx = (browser.new_context() for _ in range(3))
    a, b = start_training(a_ctx, url), start_training(b_ctx, url)
    for p in (a, b):
        p.get_by_text("Training ·").first.wait_for()
    assert training_threads(short_ttl_server) == 2
    # a third student is over the limit: a message, not a hung page
    c = start_training(c_ctx, url)
    c.get_by_text("The server is busy").wait_for()
    no_traceback(c)
    # A stops: B keeps training, and C can now start
    a.get_by_role("button", name="Stop").click()
    a.get_by_text("Stopped (stopped by the user)").wait_for()
    b.get_by_text("Training ·").first.wait_for()
    c.get_by_role("button", name="Start").click()
    c.get_by_text("Training ·").first.wait_for()
    for ctx in (a_ctx, b_ctx, c_ctx):
        ctx.close()
    # closed tabs stop their trainings and free their slots
    deadline = time.time() + 60
    while training_threads(short_ttl_server) and time.time() < deadline:
        time.sleep(0.5)
    assert training_threads(short_ttl_server) == 0


def test_twenty_closed_tabs_return_threads_and_memory_to_baseline(browser, short_ttl_server):
    pid = short_ttl_server["proc"].pid
    # one warm-up cycle: TensorFlow's one-time start-up memory is not a leak
    ctx = browser.new_context()
    start_training(ctx, short_ttl_server["url"]).get_by_text("Training ·").first.wait_for()
    ctx.close()
    time.sleep(6)
    base_threads, base_rss = proc_stats(pid)
    for _ in range(20):
        ctx = browser.new_context()
        page = start_training(ctx, short_ttl_server["url"])
        page.get_by_text("Training ·").first.wait_for()
        ctx.close()
    deadline = time.time() + 90
    while time.time() < deadline and (training_threads(short_ttl_server) or proc_stats(pid)[0] > base_threads + 4):
        time.sleep(1)
    time.sleep(5)
    threads, rss = proc_stats(pid)
    assert training_threads(short_ttl_server) == 0
    assert threads <= base_threads + 4, (base_threads, threads)
    assert rss < base_rss + 250, (base_rss, rss)  # 20 trainings would hold far more if kept
