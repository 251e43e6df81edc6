"""The template process: TensorFlow and Keras imported once, each model process forked from it.

Why: a model process started from nothing imports TensorFlow and Keras first, about 4 s of CPU on
this project's 2-core machine and about 10 s on one slow core (BENCHMARKS.md), and when it replaces
the only process of a small container no page is answered meanwhile. Forked from a process that has
already imported them, a model process is ready in a few hundredths of a second, and it shares the
template's memory pages until it writes to them (copy-on-write; ``gc.freeze`` keeps the garbage
collector from writing to every object it inherited).

Linux only (:func:`available`): macOS's system libraries are not safe to use after a fork, and
Windows has no fork; there, and with ``SIAMESE_LAB_FORK_WORKERS=0``, the pool starts each model
process from nothing, as before. The template never runs TensorFlow (no session, no device opened),
so nothing in it is half-initialised at a fork; each forked process sets its own threads and GPU.

The pool talks to the template over one ``SOCK_SEQPACKET`` socket (one message per send):
``fork THREADS WARM_UP`` with the new process's socket attached (``SCM_RIGHTS``), answered
``started PID``; the template reaps its children and reports ``ended PID CODE`` (the code as
:attr:`subprocess.Popen.returncode` gives it: ``-9`` for a process killed by the kernel). The
template is restartable like any model process: its ``oom_score_adj`` is 1000 too, and if it dies
the pool starts another at the next fork; processes already forked keep running.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from pathlib import Path

START_TIMEOUT_SECONDS = 120.0  # a template not ready by then is given up (its forks fail)
ORPHAN_POLL_SECONDS = 0.1  # how often a process whose template died is checked for its end


def process_env() -> tuple[dict[str, str], str]:
    """A model process's (or the template's) environment and folder: the project importable, and
    TensorFlow's C++ start-up chatter off unless asked for."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    root = str(Path(__file__).resolve().parents[2])  # the project: siamese_core's folder's parent
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env, root


def start_alone(
    sock: socket.socket, threads: int, warm_up: bool, core: int | None = None
) -> subprocess.Popen:
    """A model process started from nothing (it imports TensorFlow first) that talks over ``sock``
    (this call closes the caller's copy): where there is no template. ``core``: the one core it
    runs on (None: any)."""
    env, root = process_env()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siamese_core.serving.worker",
            str(sock.fileno()),
            str(threads),
            str(int(warm_up)),
            str(-1 if core is None else core),
        ],
        pass_fds=(sock.fileno(),),
        env=env,
        cwd=root,
    )
    sock.close()
    return process


def available() -> bool:
    """Whether model processes are forked from a template here (Linux, not turned off)."""
    return (
        sys.platform == "linux"
        and hasattr(socket, "send_fds")
        and os.environ.get("SIAMESE_LAB_FORK_WORKERS", "1") != "0"
    )


class ForkedProcess:
    """A model process forked by the template: the part of :class:`subprocess.Popen` the pool uses
    (``pid``, ``poll``, ``wait``, ``kill``, ``returncode``). ``pid`` is 0 until the fork is done."""

    def __init__(self) -> None:
        self.pid = 0
        self.returncode: int | None = None
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._kill_when_started = False
        self._orphan = False  # its template died: its end is seen from /proc, its code unknown

    def poll(self) -> int | None:
        self._check_orphan()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._ended.is_set():
            self._check_orphan()
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("model process", timeout)
            self._ended.wait(ORPHAN_POLL_SECONDS if self._orphan else left)
        return self.returncode

    def kill(self) -> None:
        with self._lock:
            if self._ended.is_set():
                return
            if not self.pid:
                self._kill_when_started = True
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    # ---- the template's reports ---------------------------------------------------------------------------
    def _started(self, pid: int) -> None:
        with self._lock:
            self.pid = pid
            kill = self._kill_when_started
        if kill:
            self.kill()

    def _end(self, code: int | None) -> None:
        with self._lock:
            if not self._ended.is_set():
                self.returncode = code
                self._ended.set()

    def _check_orphan(self) -> None:
        if self._orphan and not self._ended.is_set() and not _alive(self.pid):
            self._end(None)  # reaped by init: no code to report


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


class ProcessTemplate:
    """The pool's side: starts the template (again if it died) and asks it for model processes."""

    command = ("-m", "siamese_core.serving.template")  # after the interpreter; then the socket's fd

    def __init__(self) -> None:
        self._env, self._cwd = process_env()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._ready = False
        self._unsent: deque[tuple[ForkedProcess, socket.socket, int, bool, int | None]] = deque()
        self._unanswered: deque[ForkedProcess] = deque()  # asked, "started" not received yet
        self._forked: dict[int, ForkedProcess] = {}
        self.failures = 0  # templates that ended before they were ready, in a row
        self.closed = False

    @property
    def usable(self) -> bool:
        """False once two templates in a row ended before they were ready (the pool then starts
        model processes from nothing)."""
        return self.failures < 2 and not self.closed

    @property
    def pid(self) -> int | None:
        """The template process's id while it runs (its memory counts with the model service's)."""
        with self._lock:
            process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def fork(
        self, sock: socket.socket, threads: int, warm_up: bool, core: int | None = None
    ) -> ForkedProcess:
        """A model process that will talk over ``sock`` (this call closes the caller's copy), on
        ``core`` (None: any). Does not wait: the fork is asked for at once, or as soon as the
        template is ready."""
        process = ForkedProcess()
        with self._lock:
            if self._sock is None:
                self._start()
            self._unsent.append((process, sock, threads, warm_up, core))
            if self._ready:
                self._send_unsent()
        return process

    def close(self) -> None:
        """End the template (the model processes it forked end by their own sockets)."""
        with self._lock:
            self.closed = True
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    # ---- inside (under the lock) ----------------------------------------------------------------------------
    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._process = subprocess.Popen(
            [sys.executable, *self.command, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=self._env,
            cwd=self._cwd,
        )
        theirs.close()
        self._sock, self._ready = ours, False
        threading.Thread(
            target=self._read, args=(ours, self._process), name="siamese-template", daemon=True
        ).start()

    def _send_unsent(self) -> None:
        while self._unsent and self._sock is not None:
            process, sock, threads, warm_up, core = self._unsent.popleft()
            order = f"fork {threads} {int(warm_up)} {-1 if core is None else core}"
            try:
                socket.send_fds(self._sock, [order.encode()], [sock.fileno()])
                self._unanswered.append(process)
            except OSError:
                process._end(1)  # the template is gone; the caller's socket closes below
            finally:
                sock.close()

    def _read(self, sock: socket.socket, template: subprocess.Popen) -> None:
        """The template's reports, until it ends; then whatever it had not done fails."""
        ready_by = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                ready, _, _ = select.select([sock], [], [], 1.0)
                if not ready:
                    if not self._ready and time.monotonic() > ready_by:
                        template.kill()
                    continue
                words = sock.recv(256).decode().split()
            except (OSError, ValueError):
                words = []
            if not words:
                break
            with self._lock:
                match words:
                    case ["ready"]:
                        self._ready, self.failures = True, 0
                        self._send_unsent()
                    case ["started", pid]:
                        process = self._unanswered.popleft()
                        self._forked[int(pid)] = process
                    case ["failed"]:
                        self._unanswered.popleft()._end(1)
                    case ["ended", pid, code]:
                        if (process := self._forked.pop(int(pid), None)) is not None:
                            process._end(int(code))
            if words[0] == "started":
                process._started(int(words[1]))
        with contextlib.suppress(OSError):
            sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            template.wait(10)
        with self._lock:
            if not self._ready:
                self.failures += 1
            if self._sock is sock:
                self._sock = None
            failed = list(self._unanswered) + [p for p, *_ in self._unsent]
            for _, s, *_ in self._unsent:
                s.close()
            self._unsent.clear()
            self._unanswered.clear()
            orphans, self._forked = list(self._forked.values()), {}
        for process in failed:
            process._end(template.returncode if template.returncode else 1)
        for process in orphans:
            process._orphan = True


# ---- the template process itself ---------------------------------------------------------------------
def template_main(fd: int) -> None:
    from siamese_core.serving.memory import limit_malloc_arenas, release_free_memory
    from siamese_core.serving.worker import first_to_go_when_memory_runs_out, import_model_code, worker_main

    first_to_go_when_memory_runs_out()
    limit_malloc_arenas()
    import_model_code()
    release_free_memory()  # the imports' garbage collected, its pages handed back before the forks
    gc.freeze()  # what is here now is shared with every fork: the collector leaves it alone
    sock = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a child ended: the wake-up pipe says so
    sock.send(b"ready")
    while True:
        readable, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 512)
        while True:  # report every child that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            sock.send(f"ended {pid} {os.waitstatus_to_exitcode(status)}".encode())
        if sock not in readable:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(sock, 256, 1)
        except OSError:
            message, fds = b"", []
        if not message:
            return  # the pool is gone (its own end closes the socket)
        _, threads, warm_up, core = message.decode().split()
        try:
            pid = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            sock.send(b"failed")
            continue
        if pid == 0:  # the model process
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for own in (wake_r, wake_w):
                    os.close(own)
                sock.close()
                worker_main(fds[0], int(threads), warm_up == "1", None if core == "-1" else int(core))
                code = 0
            except SystemExit as end:
                code = end.code if isinstance(end.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        sock.send(f"started {pid}".encode())


if __name__ == "__main__":  # the pickled classes must be siamese_core's, not __main__'s
    from siamese_core.serving.template import template_main

    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the pool ended first
        template_main(int(sys.argv[1]))
