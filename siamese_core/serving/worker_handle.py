"""A model process as the worker pool holds it (``pool.py``): the pool's side of one process."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from siamese_core.serving import template
from siamese_core.serving.mirrors import RemoteJob
from siamese_core.serving.protocol import Answer, Call, Control, Exit, RunTask, Train


@dataclass
class WorkerHandle:
    """One model process as the pool holds it: its connection, its job, the page calls it owes, the
    models sent to it and the core it runs on."""

    process: subprocess.Popen | template.ForkedProcess
    conn: Connection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Event = field(default_factory=threading.Event)
    job: RemoteJob | None = None
    jobs_done: int = 0
    retiring: bool = False
    started: float = field(default_factory=time.monotonic)
    loaded: set[str] = field(default_factory=set)  # handles sent to it (it may have let some go)
    calls: dict[int, PendingCall] = field(default_factory=dict)  # asked, not answered yet
    ready_mb: float = 0.0  # its size (PSS) when it became ready
    core: int | None = None  # the one core it runs on (container.cores_to_pin), or None: any

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, message: Train | RunTask | Call | Control | Exit) -> bool:
        try:
            with self.send_lock:
                self.conn.send(message)
            return True
        except (OSError, EOFError, ValueError):
            return False


@dataclass
class PendingCall:
    """A page's call sent to a process, until its answer comes (None: the process died first)."""

    answered: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None
