"""The Class board page on a projector and in many students' tabs: what the web server pays
for the board's self-refresh (a fragment every 3 s), against a real `streamlit run` server.

    python benchmarks/bench_board_page.py [--viewers 10] [--seconds 60] [--entries 30]

A class with ``--entries`` runs (synthetic rows written through the storage layer: this measures
drawing, not training) is opened in ``--viewers`` headless Chromium contexts on the projector view;
the script samples the server process's CPU (psutil, the web server only: no training runs) and
counts the board's redraws seen in the browsers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siamese_core.serving.board import Board, RunFacts  # noqa: E402
from tests.e2e.conftest import CHROMIUM, start_server, stop_server, wait_idle  # noqa: E402


def seed(path: Path, entries: int) -> str:
    board = Board(sa.create_engine(f"sqlite:///{path}"))
    board.ensure_schema()
    code = board.open_class("bench").code
    for k in range(entries):
        board.join(code, f"s{k}", f"student {k}")
        shared = k % 2 == 0
        facts = RunFacts(
            uuid.uuid4().hex,
            "classroom",
            shared,
            111_712 if shared else 223_424,
            0.9 + k / 1000,
            0.99,
            3.0,
            "mnist",
        )
        board.post(code, f"s{k}", facts)
    return code


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--entries", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="board-bench-"))
    code = seed(folder / "board.sqlite", args.entries)
    server = start_server(
        log_name="bench-board-page.log", env={"SIAMESE_LAB_BOARD_PATH": str(folder / "board.sqlite")}
    )
    process = psutil.Process(server["proc"].pid)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            pages = []
            for _ in range(args.viewers):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(f"{server['url']}/board?board.class={code}&board.projector=true")
                wait_idle(page)
                page.get_by_text(f"{args.entries} runs from {args.entries} students").wait_for(timeout=60_000)
                pages.append(page)
            time.sleep(5)  # the warm-up thread's work is over
            process.cpu_percent(None)
            samples = []
            end = time.time() + args.seconds
            while time.time() < end:
                time.sleep(1)
                samples.append(process.cpu_percent(None))
            result = {
                "viewers": args.viewers,
                "entries": args.entries,
                "seconds": args.seconds,
                "server_cpu_percent_mean": round(sum(samples) / len(samples), 1),
                "server_cpu_percent_max": round(max(samples), 1),
                "server_rss_mb": round(process.memory_info().rss / 2**20, 1),
            }
            browser.close()
    finally:
        stop_server(server)
    print(json.dumps(result))
    out = ROOT / "benchmarks" / "results" / f"board_page_{args.viewers}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
