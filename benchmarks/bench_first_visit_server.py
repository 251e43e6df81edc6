"""Every page's first visit on a fresh server, timed at the server: no browser on the machine.

    python benchmarks/bench_first_visit_server.py [--read 6] [--json PATH]

Like ``bench_first_visit.py`` (a fresh ``streamlit run app.py``; Home, ``--read`` seconds, then
each page in the same session), but the student is ``stclient.Student``, a client of Streamlit's
own websocket protocol: each time is from the request to the script run's end, without the
browser's drawing. On this two-core machine the browser shares the cores with the server and the
first model process's TensorFlow import, so the two benchmarks together say whose the time is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from e2e.conftest import start_server, stop_server  # noqa: E402
from stclient import Student  # noqa: E402

PAGES = (
    "weight_sharing",
    "train",
    "embeddings",
    "compare",
    "oneshot",
    "evaluate",
    "lessons",
    "board",
    "teacher",
    "about",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read", type=float, default=6.0, help="seconds on Home before the next page")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    server = start_server(log_name="bench-first-visit-server.log")
    times: dict[str, float] = {}
    try:

        async def visit() -> None:
            student = Student(server["url"])
            await student.connect()
            times["home"] = (await student.open("")).seconds
            await asyncio.sleep(args.read)
            for page in PAGES:
                times[page] = (await student.open(page)).seconds
                assert student.texts(), f"{page}: the page drew nothing"
            await student.close()

        started = time.perf_counter()
        asyncio.run(visit())
        print(f"(all pages in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    finally:
        stop_server(server)
    print("| page | first visit, at the server |\n|---|---|")
    for page, seconds in times.items():
        print(f"| {page} | {seconds:.2f} s |")
    if args.json:
        args.json.write_text(json.dumps(times, indent=1))


if __name__ == "__main__":
    main()
