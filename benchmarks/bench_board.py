"""The class board under a class's load: thirty students posting at the same instant, and the
projector's query, on SQLite and (with --postgres URL) PostgreSQL.

    python benchmarks/bench_board.py [--rounds 10] [--postgres postgresql+psycopg://...]

Each round opens a class, thirty members join, then thirty threads post at once (a barrier);
it records every post's latency, whether any was lost, and the time of the board's read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from siamese_core.serving.board import Board, RunFacts  # noqa: E402

STUDENTS = 30


def one_round(board: Board) -> tuple[list[float], int, float]:
    code = board.open_class("bench").code
    for k in range(STUDENTS):
        board.join(code, f"s{k}", f"student {k}")
    barrier = threading.Barrier(STUDENTS)
    latencies: list[float] = []
    errors: list[str] = []

    def post(k: int) -> None:
        facts = RunFacts(uuid.uuid4().hex, "classroom", k % 2 == 0, 10_000, 0.97, 0.99, 3.0, "mnist")
        barrier.wait()
        start = time.perf_counter()
        try:
            board.post(code, f"s{k}", facts)
            latencies.append(time.perf_counter() - start)
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=post, args=(k,)) for k in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    start = time.perf_counter()
    kept = len(board.entries(code))
    read = time.perf_counter() - start
    assert not errors, errors
    return latencies, STUDENTS - kept, read


def run(name: str, engine: sa.Engine, rounds: int) -> dict:
    board = Board(engine)
    board.ensure_schema()
    latencies, lost, reads = [], 0, []
    for _ in range(rounds):
        times, missing, read = one_round(board)
        latencies += times
        lost += missing
        reads.append(read)
    latencies.sort()
    result = {
        "database": name,
        "rounds": rounds,
        "posts": len(latencies),
        "lost": lost,
        "post_p50_ms": round(1000 * statistics.median(latencies), 1),
        "post_p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
        "post_max_ms": round(1000 * latencies[-1], 1),
        "board_read_ms_median": round(1000 * statistics.median(reads), 1),
    }
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--postgres", help="a PostgreSQL SQLAlchemy URL (a fresh database is created there)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "board.json"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run("sqlite", sa.create_engine(f"sqlite:///{folder}/board.sqlite"), args.rounds))
    if args.postgres:
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"board_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = sa.create_engine(
            sa.make_url(args.postgres).set(database=name), pool_size=10, max_overflow=30
        )
        try:
            results.append(run("postgresql", engine, args.rounds))
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
