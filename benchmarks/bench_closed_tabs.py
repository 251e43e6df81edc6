"""Closed tabs give everything back: the web server's threads and memory after many students
start a training and close their tab, against a real `streamlit run` server in Chromium.

    python benchmarks/bench_closed_tabs.py [--cycles 20]

The server runs with a 1 s grace for closed tabs (15 s by default) and forgets closed sessions
after 2 s (Streamlit's default is 120 s), so the script can watch them go. One warm-up cycle
first: TensorFlow's one-time start-up memory and thread pools are not a leak. Then ``--cycles``
times: a fresh browser context opens Train, presses Start, waits for the first batches, closes;
the Train page of a bystander must then show no training running or waiting. Prints the server's
threads and RSS before and after (a thread kept per tab would show +1 a cycle; before the worker
processes, TensorFlow's own per-fit leak left ~9 MB a training in the server).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siamese_core.serving.memory import rss_mb  # noqa: E402
from tests.e2e.conftest import CHROMIUM, start_server, stop_server, wait_idle  # noqa: E402

LONG = (
    "/train?train.dataset=mnist-5k&train.branch=mlp&train.embedding_dim=16&train.optimizer=adam"
    "&train.epochs=500&train.pairs_per_epoch=8192&train.batch_size=64&train.steps_per_execution=1"
)


def os_threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def slots_in_use(page, url: str) -> int:
    page.goto(url + "/train")
    wait_idle(page)
    text = page.get_by_text("trainings running").first.inner_text()
    found = re.search(r"(\d+) of \d+ trainings running, (\d+) waiting", text)
    return int(found.group(1)) + int(found.group(2))


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    server = start_server(
        "--server.disconnectedSessionTTL",
        "2",
        log_name="bench-closed-tabs.log",
        env={"SIAMESE_LAB_DISCONNECT_GRACE": "1"},
    )
    url, pid = server["url"], server["proc"].pid
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            watcher = browser.new_context().new_page()
            watcher.set_default_timeout(120_000)

            def cycle() -> None:
                context = browser.new_context(viewport={"width": 1400, "height": 1200})
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(url + LONG)
                wait_idle(page)
                page.get_by_test_id("stMainBlockContainer").get_by_role(
                    "button", name="Start", exact=True
                ).click()
                page.get_by_text("Training ·").first.wait_for()
                context.close()
                end = time.time() + 60
                while slots_in_use(watcher, url) and time.time() < end:
                    time.sleep(1)
                if slots_in_use(watcher, url):
                    raise SystemExit("a closed tab's training kept its slot")

            cycle()
            time.sleep(3)
            before = {"threads": os_threads(pid), "rss_mb": round(rss_mb(pid))}
            started = time.perf_counter()
            for _ in range(args.cycles):
                cycle()
            time.sleep(4)  # closed sessions are forgotten 2 s after their tab closes
            after = {"threads": os_threads(pid), "rss_mb": round(rss_mb(pid))}
            browser.close()
    finally:
        stop_server(server)
    print(
        json.dumps(
            {
                "cycles": args.cycles,
                "seconds_per_cycle": round((time.perf_counter() - started) / args.cycles, 1),
                "before": before,
                "after": after,
            }
        )
    )


if __name__ == "__main__":
    main()
