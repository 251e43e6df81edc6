"""Every page's first visit on a fresh server, one student in a real browser (issue 26: at most 2 s).

    python benchmarks/bench_first_visit.py [--read 6] [--json PATH]

A fresh ``streamlit run app.py`` (the model service not started yet); one student opens Home, reads
for ``--read`` seconds (the warm-up thread runs meanwhile), then opens each page by its sidebar link
(one Streamlit session, as a student clicks). Each time is from the click to the page idle: the
script finished and nothing left running (the browser's drawing included). Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from e2e.conftest import start_server, stop_server, wait_idle  # noqa: E402

from siamese_ui.navigation import PAGES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read", type=float, default=6.0, help="seconds on Home before the first link")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = start_server(log_name="first-visit.log")
    times: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            started = time.perf_counter()
            page.goto(server["url"])
            wait_idle(page, timeout=120)
            times["Home (the server's first visit)"] = time.perf_counter() - started
            time.sleep(args.read)
            for info in PAGES:
                if info.default:
                    continue
                title = info.title
                started = time.perf_counter()
                page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
                time.sleep(0.3)  # the click's rerun begins
                wait_idle(page, timeout=120)
                times[title] = time.perf_counter() - started
            browser.close()
    finally:
        stop_server(server)
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.2f} s |")
    if args.json:
        args.json.write_text(json.dumps({k: round(v, 2) for k, v in times.items()}, indent=1))


if __name__ == "__main__":
    main()
