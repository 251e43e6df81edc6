"""The classroom load test behind ``bench_classroom.py``: N students (``stclient.Student``, one
websocket session and one cookie each) against one real ``streamlit run app.py`` server."""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from e2e.conftest import LOGS, start_server, stop_server  # noqa: E402
from stclient import Student  # noqa: E402

from siamese_core.serving.memory import pss_mb, rss_mb  # noqa: E402
from tests.helpers import children  # noqa: E402

TRAINING_TIMEOUT = 600.0  # seconds a student waits for their training before it counts as an error
RESULT = "Test pair accuracy"
CURVE = "<svg"  # the live charts' first point


PSS_EVERY = 4  # PSS on every 4th sample (2 s), RSS on each (0.5 s): see MemoryWatch


class MemoryWatch(threading.Thread):
    """Peak memory of the server and every process under it (the template and the model processes
    it forked) together: RSS (the sum a naive monitor shows) every 0.5 s, and PSS (shared pages
    counted once; what the machine really holds) every 2 s. Reading a process's PSS
    (``/proc/PID/smaps_rollup``) walks its page tables in the kernel, ~6 ms of CPU for a
    TensorFlow process here: every 0.5 s for four processes it took ~5 CPU-s of the class's two
    cores (BENCHMARKS.md). ``cpu_s``: what this thread itself used."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_pss, self.peak_rss, self.server_pss = pid, 0.0, 0.0, []
        self.cpu_s = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        started, tick = time.thread_time(), 0
        while not self.done.is_set():
            pids = [self.pid, *descendants(self.pid)]
            self.peak_rss = max(self.peak_rss, sum(rss_mb(p) for p in pids))
            if tick % PSS_EVERY == 0:
                self.peak_pss = max(self.peak_pss, sum(pss_mb(p) for p in pids))
                self.server_pss.append(pss_mb(self.pid))
            tick += 1
            self.cpu_s = time.thread_time() - started
            time.sleep(0.5)


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, children and theirs (one pass over /proc)."""
    below: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("PPid:"):
                    below.setdefault(int(line.split()[1]), []).append(int(status.parent.name))
                    break
        except (OSError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        kids = below.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far (user + system): the web server's own, the model service's (its
    processes that ended, which the server has waited for, plus those alive now), and this load
    test's clients and its memory sampling, which stand for browsers and a monitor on other machines but
    share this machine's cores."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid: int) -> list[int]:
        try:  # fields 14-17: utime stime cutime cstime (after the command's closing parenthesis)
            return [int(v) for v in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:15]]
        except (OSError, ValueError):
            return [0, 0, 0, 0]

    def below(pid: int) -> int:
        """The processes alive under ``pid`` (the model processes, and the template with the ones
        it forked and has reaped): their own times and their reaped children's."""
        return sum(sum(times(child)) + below(child) for child in children(pid))

    server = times(server_pid)
    alive = below(server_pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "web_server": (server[0] + server[1]) / tick,
        "model_service": (server[2] + server[3] + alive) / tick,
        "load_test_clients": own.ru_utime + own.ru_stime,
    }


class Class:
    """What all students share: who is waiting for a training to start."""

    def __init__(self):
        self.waiting = 0
        self.first_start = None
        self.last_end = 0.0


async def student(n: int, url: str, arrive: float, room: Class, out: list) -> None:
    await asyncio.sleep(arrive)
    s = Student(url, cookie=f"siamese_lab_student={secrets.token_hex(16)}")
    record = {"student": n, "pages": {}, "compare": [], "errors": s.errors}
    out.append(record)
    try:
        await s.connect()
        for path in ("", "train"):
            run = await s.open(path)
            record["pages"][path or "home"] = (run.seconds, room.waiting > 0)
        started = time.perf_counter()
        said = [t for t in s.texts() if "cannot train" in t or "runs no trainings" in t]
        if said:  # a server too small to train: the page says why in one sentence (issue 26's target)
            record["no_training_sentence"] = said[0][:300]
        else:
            room.first_start = room.first_start or started
            await s.click("Start")
            room.waiting += 1
        waiting = not said
        while not said and time.perf_counter() - started < TRAINING_TIMEOUT:
            await asyncio.sleep(0.1)
            texts = " ".join(s.texts())
            if waiting and CURVE in texts:
                record["first_point"] = time.perf_counter() - started
                room.waiting -= 1
                waiting = False
            if RESULT in texts and "Test pair accuracy **" in texts:
                record["trained"] = time.perf_counter() - started
                room.last_end = max(room.last_end, time.perf_counter())
                break
            if "Training stopped:" in texts or "ended unexpectedly" in texts:
                s.errors.append("training failed: " + next(t for t in s.texts() if "stopped" in t)[:200])
                break
        else:
            if not said:
                s.errors.append("training did not finish in time")
        if waiting:
            room.waiting -= 1
        for path in ("compare", "evaluate", "embeddings"):
            run = await s.open(path)
            record["pages"][path] = (run.seconds, room.waiting > 0)
            if path == "compare":
                for side, nth in (("a", 0), ("b", 1)):
                    run = await s.choose(side, "Test digit", nth)
                    record["compare"].append((run.seconds, room.waiting > 0))
                for _ in range(3):
                    run = await s.click("Random")
                    record["compare"].append((run.seconds, room.waiting > 0))
                if not (s.has_text("Same digit") or s.has_text("Different digits")):
                    s.errors.append("Compare gave no verdict")
    except Exception as exc:  # a student's failure is a result, not the end of the test
        s.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await s.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def load_test(
    n_students: int, stagger: float = 1.0, memory_mb: float | None = None, cpus: float | None = None
) -> dict:
    """``memory_mb`` / ``cpus``: the server and its model service run in a control group with that
    memory limit and CPU quota (benchmarks/container.py), as a hosting container would hold them."""
    from container import Container

    with Container(memory_mb, cpus) if (memory_mb or cpus) else _NoContainer() as box:
        result = _load_test(n_students, stagger, box)
    result["memory_limit_mb"], result["cpus"] = memory_mb, cpus
    return result


class _NoContainer:
    wrap: tuple[str, ...] = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def kills(self) -> int | None:
        return None

    def peak_mb(self) -> float | None:
        return None

    def throttled_s(self) -> float | None:
        return None


def _load_test(n_students: int, stagger: float, box) -> dict:
    log_name = f"classroom-{n_students}.log"
    server = start_server(log_name=log_name, wrap=box.wrap)
    watch = MemoryWatch(server["proc"].pid)
    server_alive = True
    try:
        warm = Student(server["url"])  # the teacher opens the app first (the server's one-off start)

        async def teacher():
            await warm.connect()
            await warm.open("")
            await asyncio.sleep(8)  # the teacher talks; the warm-up thread and workers get ready
            await warm.close()

        asyncio.run(teacher())
        watch.start()
        room, records = Class(), []

        async def everyone():
            await asyncio.gather(
                *(student(k, server["url"], k * stagger, room, records) for k in range(n_students))
            )

        cpu_before, throttled_before = cpu_seconds(server["proc"].pid), box.throttled_s()
        began = time.perf_counter()
        asyncio.run(everyone())
        took = time.perf_counter() - began
        cpu_after = cpu_seconds(server["proc"].pid)
        cpu = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_after}
        throttled_after = box.throttled_s()
        throttled = (
            None
            if None in (throttled_before, throttled_after)
            else round(throttled_after - throttled_before, 1)
        )
    finally:
        watch.done.set()
        server_alive = server["proc"].poll() is None
        kills, group_peak = box.kills(), box.peak_mb()
        try:
            stop_server(server)
        except AssertionError as exc:  # stop_server's check that the server never loaded TensorFlow
            errors_at_stop = [str(exc)]
        else:
            errors_at_stop = []
    pages = [t for r in records for t, _busy in r["pages"].values()]
    compare = [t for r in records for t, _busy in r["compare"]]
    compare_busy = [t for r in records for t, busy in r["compare"] if busy]
    first_points = [r["first_point"] for r in records if "first_point" in r]
    by_page = {}
    for r in records:
        for name, (t, _busy) in r["pages"].items():
            by_page.setdefault(name, []).append(t)
    return {
        "students": n_students,
        "stagger_s": stagger,
        "trainings_finished": sum("trained" in r for r in records),
        "told_why_no_training": sum("no_training_sentence" in r for r in records),
        "no_training_sentence": next(
            (r["no_training_sentence"] for r in records if "no_training_sentence" in r), ""
        ),
        "last_training_after_first_start_s": round(room.last_end - room.first_start, 1)
        if room.first_start and room.last_end
        else None,
        "first_point_p50_s": round(statistics.median(first_points), 2) if first_points else None,
        "first_point_max_s": round(max(first_points), 2) if first_points else None,
        "page_p50_s": round(percentile(pages, 50), 3),
        "page_p95_s": round(percentile(pages, 95), 3),
        "page_p95_by_page_s": {k: round(percentile(v, 95), 3) for k, v in by_page.items()},
        "compare_p50_s": round(percentile(compare, 50), 3),
        "compare_p95_s": round(percentile(compare, 95), 3),
        "compare_p95_while_queued_s": round(percentile(compare_busy, 95), 3) if compare_busy else None,
        "compare_responses_while_queued": len(compare_busy),
        "peak_pss_mb_server_and_workers": round(watch.peak_pss),
        "peak_rss_mb_server_and_workers": round(watch.peak_rss),
        "memory_sampling_cpu_s": round(watch.cpu_s, 1),
        "server_pss_start_end_mb": [round(watch.server_pss[0]), round(watch.server_pss[-1])]
        if watch.server_pss
        else None,
        "errors": [e for r in records for e in r["errors"]] + errors_at_stop,
        "wall_s": round(took, 1),
        "cpu_seconds": cpu,
        "throttled_s": throttled,  # the group's threads held back by its CPU quota, over the class
        "server_alive_at_end": server_alive,
        "oom_kills": kills,
        "group_peak_mb": round(group_peak) if group_peak else None,
        "server_log_tail": (LOGS / log_name).read_text()[-1500:] if (LOGS / log_name).exists() else "",
    }


def load_markdown(results: list[dict]) -> str:
    rows = [
        ("students", "students"),
        ("trainings finished", "trainings_finished"),
        ("students told in one sentence why this server cannot train", "told_why_no_training"),
        ("last training ends, after the first Start (s)", "last_training_after_first_start_s"),
        ("Start → first curve point, median / worst (s)", ("first_point_p50_s", "first_point_max_s")),
        ("first visit of a page, p50 / p95 (s)", ("page_p50_s", "page_p95_s")),
        ("Compare response, p50 / p95 (s)", ("compare_p50_s", "compare_p95_s")),
        ("Compare response while students wait in line, p95 (s)", "compare_p95_while_queued_s"),
        ("peak memory, server + workers, PSS (MB)", "peak_pss_mb_server_and_workers"),
        ("peak memory, server + workers, RSS sum (MB)", "peak_rss_mb_server_and_workers"),
        ("CPU: web server / model service / load test (s)", "cpu_seconds"),
        ("of the load test's CPU, its memory sampling (s)", "memory_sampling_cpu_s"),
        ("errors", "errors"),
        ("processes killed for memory (OOM)", "oom_kills"),
        ("time the CPU quota held the group back, over the class (s)", "throttled_s"),
        ("web server alive at the end", "server_alive_at_end"),
        ("peak of the control group, page cache included (MB)", "group_peak_mb"),
    ]

    def title(r: dict) -> str:
        limits = ""
        if r.get("memory_limit_mb") or r.get("cpus"):
            limits = f", {r.get('memory_limit_mb') or '∞'} MB, {r.get('cpus') or 'all'} cores"
        return f"N = {r['students']}{limits}"

    lines = ["| figure | " + " | ".join(title(r) for r in results) + " |"]
    lines.append("|---|" + "---|" * len(results))
    for label, key in rows[1:]:
        cells = []
        for r in results:
            if isinstance(key, tuple):
                cells.append(" / ".join(str(r[k]) for k in key))
            elif key == "errors":
                cells.append(str(len(r["errors"])))
            elif key == "cpu_seconds":
                cells.append(" / ".join(str(v) for v in r["cpu_seconds"].values()))
            else:
                cells.append(str(r.get(key)))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
