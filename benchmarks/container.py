"""A hosting container's limits for a benchmark's server: a Linux control group with a memory limit
and a CPU quota that the server and every process it starts (the model service) run in, as on
Streamlit Community Cloud (690 MB to 2.7 GB, 0.078 to 2 cores). cgroup v1 (``memory`` and ``cpu``
controllers, as on this machine) or v2 (one unified folder); root only. The group is removed after.

    with Container(memory_mb=1024, cpus=1) as box:
        server = start_server(wrap=box.wrap)
        ...
        box.kills()   # processes the kernel's OOM killer killed inside it
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class Container:
    def __init__(self, memory_mb: float | None, cpus: float | None, name: str | None = None):
        self.memory_mb, self.cpus = memory_mb, cpus
        self.name = name or f"siamese-bench-{os.getpid()}"
        self.v2 = (ROOT / "cgroup.controllers").exists()
        self.folders: list[Path] = []
        self.peak_bytes = 0

    def __enter__(self) -> Container:
        if self.v2:
            folder = ROOT / self.name
            folder.mkdir()
            self.folders = [folder]
            if self.memory_mb:
                (folder / "memory.max").write_text(str(int(self.memory_mb * 2**20)))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
            if self.cpus:
                (folder / "cpu.max").write_text(f"{int(self.cpus * PERIOD_US)} {PERIOD_US}")
        else:
            memory, cpu = ROOT / "memory" / self.name, ROOT / "cpu" / self.name
            memory.mkdir()
            cpu.mkdir()
            self.folders = [memory, cpu]
            if self.memory_mb:
                limit = str(int(self.memory_mb * 2**20))
                (memory / "memory.limit_in_bytes").write_text(limit)
                if (memory / "memory.memsw.limit_in_bytes").exists():  # no swap to hide in
                    (memory / "memory.memsw.limit_in_bytes").write_text(limit)
            if self.cpus:
                (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (cpu / "cpu.cfs_quota_us").write_text(str(int(self.cpus * PERIOD_US)))
        return self

    @property
    def wrap(self) -> tuple[str, ...]:
        """A command that joins the group(s), then ``exec``s the rest of its arguments."""
        joins = "; ".join(f"echo $$ > {folder / 'cgroup.procs'}" for folder in self.folders)
        return ("sh", "-c", f'{joins}; exec "$@"', "sh")

    def kills(self) -> int:
        """How many processes the OOM killer killed in the group so far."""
        folder = self.folders[0]
        text = (folder / ("memory.events" if self.v2 else "memory.oom_control")).read_text()
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def peak_mb(self) -> float:
        """The group's peak memory (page cache included), where the kernel keeps it."""
        folder = self.folders[0]
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((folder / name).read_text()) / 2**20
        except OSError:
            return float("nan")

    def throttled_s(self) -> float | None:
        """Seconds the group's threads were held back by its CPU quota so far (the kernel's
        ``throttled_time`` / ``throttled_usec`` in ``cpu.stat``); None without a quota."""
        if not self.cpus:
            return None
        folder = self.folders[0] if self.v2 else self.folders[1]
        try:
            stat = dict(line.split() for line in (folder / "cpu.stat").read_text().splitlines())
        except (OSError, ValueError):
            return None
        if "throttled_usec" in stat:
            return int(stat["throttled_usec"]) / 1e6
        if "throttled_time" in stat:
            return int(stat["throttled_time"]) / 1e9
        return None

    def __exit__(self, *exc) -> None:
        for folder in self.folders:
            for _ in range(50):  # its processes take a moment to be gone
                procs = (folder / "cgroup.procs").read_text().split()
                for pid in procs:
                    with contextlib.suppress(OSError):
                        os.kill(int(pid), 9)
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.2)
