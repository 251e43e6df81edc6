"""A student without a browser: Streamlit 1.67's own websocket protocol, spoken to a real
``streamlit run`` server (the load test's client; no stand-in server). Uses the ``websockets`` package Streamlit
itself depends on.

The browser's side of the protocol, as far as a student's visit needs it:

- connect to ``ws://host/_stcore/stream`` with the subprotocol ``streamlit``, sending the cookie
  (``st.context.cookies`` reads the handshake's ``Cookie`` header);
- every run is a ``BackMsg.rerun_script`` (a ``ClientState``: query string, widget states, the
  page's ``page_script_hash``; ``fragment_id`` + ``is_auto_rerun`` for a fragment's timer);
- the server answers with ``ForwardMsg``s: ``new_session``, ``navigation`` (the pages and their
  hashes), ``delta`` (an element at a ``delta_path``), ``auto_rerun`` (a fragment that wants a
  rerun every ``interval`` seconds: the browser keeps that timer, so this client does too),
  ``script_finished``; a ``ref_hash`` stands for a message already sent, by its hash;
- a click is a rerun whose widget states hold the button's id with ``trigger_value``, plus the
  current value of every other widget the student set (the browser always sends them all).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect as websocket_connect


@dataclass
class Run:
    """One script run as the client saw it."""

    kind: str  # "page", "click", "widgets" or "fragment"
    label: str
    sent: float
    finished: float = 0.0
    status: int = -1

    @property
    def seconds(self) -> float:
        return self.finished - self.sent


@dataclass
class Student:
    url: str  # http://host:port
    cookie: str = ""
    elements: dict[tuple, object] = field(default_factory=dict)  # delta path -> Element
    fragments: dict[tuple, str] = field(default_factory=dict)  # delta path -> fragment id
    pages: dict[str, str] = field(default_factory=dict)  # url path ("", "train", …) -> page hash
    page_hash: str = ""
    widgets: dict[str, object] = field(default_factory=dict)  # widget id -> WidgetState to resend
    timers: dict[str, float] = field(default_factory=dict)  # fragment id -> interval (s)
    errors: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ws = None
        self._cache: dict[str, ForwardMsg] = {}
        self._finished = asyncio.Event()
        self._current: Run | None = None
        self._awaiting_start = False  # a page run asked for, whose new_session has not come yet
        self._tasks: list[asyncio.Task] = []
        self._closed = False
        # texts() is read every 0.1 s by each student of a load test: worked out again only after
        # a message changed an element (the clients share the server's cores; a browser does not)
        self._texts: list[str] | None = None

    # ---- connection ----------------------------------------------------------------------------
    async def connect(self) -> None:
        ws_url = self.url.replace("http", "ws", 1) + "/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self._ws = await websocket_connect(
            ws_url, subprotocols=["streamlit"], additional_headers=headers, max_size=200 * 2**20
        )
        self._tasks.append(asyncio.create_task(self._read()))
        self._tasks.append(asyncio.create_task(self._fragment_timers()))

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            await self._ws.close()

    async def _read(self) -> None:
        while True:
            try:
                data = await self._ws.recv()
            except Exception:  # ConnectionClosed
                if not self._closed:
                    self.errors.append("the server closed the connection")
                self._finished.set()
                return
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self._handle(msg)

    def _handle(self, msg: ForwardMsg) -> None:
        if msg.HasField("ref_hash"):
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self.errors.append("a reference to a message never received")
                return
            cached = ForwardMsg.FromString(cached.SerializeToString())
            cached.metadata.CopyFrom(msg.metadata)
            msg = cached
        elif msg.hash:
            self._cache[msg.hash] = msg
        kind = msg.WhichOneof("type")
        if (
            kind == "new_session"
            and self._awaiting_start
            and not msg.metadata.run.fragment_ids
            and (not self.page_hash or msg.new_session.page_script_hash == self.page_hash)
        ):
            # the run this client asked for has begun: not a fragment's, and of the page asked for (a
            # full run of the page being left, which a fragment's st.rerun began as the student
            # clicked, can start after the request was sent: a class of 30 saw the Train page's end
            # as Compare's, once)
            self._awaiting_start = False
        elif self._awaiting_start and kind in (
            "navigation",  # of the page being left: it would set page_hash back to that page
            "delta",
            "script_finished",
            "auto_rerun",
            "stop_auto_rerun",
        ):
            # the end of a run begun before this client's request (a fragment's timer went off as the
            # student clicked): its elements belong to the page being left, and its end is not ours
            return
        if kind == "new_session":
            self._pages_from(msg.new_session.app_pages)
        elif kind == "navigation":
            self._pages_from(msg.navigation.app_pages)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "delta":
            path = tuple(msg.metadata.delta_path)
            delta = msg.delta
            if delta.WhichOneof("type") == "new_element":
                element = delta.new_element
                self.elements[path] = element
                self._texts = None
                if delta.fragment_id:
                    self.fragments[path] = delta.fragment_id
                if element.WhichOneof("type") == "exception":
                    self.errors.append(f"exception: {element.exception.type}: {element.exception.message}")
        elif kind == "auto_rerun":
            self.timers[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            self.timers.clear()
        elif kind == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # the run was replaced by another (a rerun the page asked for): wait on
            if self._current is not None and not self._current.finished:
                self._current.finished = time.perf_counter()
                self._current.status = msg.script_finished
            self._finished.set()

    def _pages_from(self, app_pages) -> None:
        for page in app_pages:
            self.pages[page.url_pathname] = page.page_script_hash

    async def _fragment_timers(self) -> None:
        """The browser's fragment timers: a rerun of each auto-rerun fragment every interval."""
        last: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.1)
            if self._current is not None and not self._current.finished:
                continue  # one run at a time, as the browser queues them
            now = time.perf_counter()
            for fragment, interval in list(self.timers.items()):
                if now - last.get(fragment, now - interval) >= interval:
                    last[fragment] = now
                    await self._send(fragment_id=fragment, kind="fragment", label=fragment, wait=False)
                    break

    # ---- what a student does --------------------------------------------------------------------
    async def _send(
        self,
        kind: str,
        label: str,
        triggers: dict | None = None,
        fragment_id: str = "",
        wait: bool = True,
        timeout: float = 120.0,
    ) -> Run:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = self.page_hash
        for widget in self.widgets.values():
            state.widget_states.widgets.add().CopyFrom(widget)
        for widget_id, value in (triggers or {}).items():
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.trigger_value = value
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = kind == "fragment"
        run = Run(kind, label, time.perf_counter())
        self._current = run
        self._finished.clear()
        if kind != "fragment" and not fragment_id:
            self._awaiting_start = True
            self.elements.clear()
            self._texts = None
            self.fragments.clear()
        await self._ws.send(msg.SerializeToString())
        self.runs.append(run)
        if wait:
            await self.wait(run, timeout)
        return run

    async def wait(self, run: Run, timeout: float = 120.0) -> None:
        end = time.perf_counter() + timeout
        while not run.finished:
            remaining = end - time.perf_counter()
            if remaining <= 0:
                self.errors.append(f"no answer to {run.kind} {run.label!r} within {timeout:.0f} s")
                self._awaiting_start = False  # take what comes next rather than nothing ever again
                return
            self._finished.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), remaining)

    async def open(self, path: str = "") -> Run:
        """Open a page by its URL path ("" for the default page), as a sidebar click does."""
        if path and path not in self.pages:
            raise KeyError(f"no page {path!r}: {sorted(self.pages)}")
        self.page_hash = self.pages.get(path, "") if path else ""
        self.timers.clear()
        return await self._send("page", path or "home")

    def button(self, label: str):
        """(element path, button) of the first button with this label."""
        for path, element in sorted(self.elements.items()):
            if element.WhichOneof("type") == "button" and element.button.label == label:
                return path, element.button
        return None, None

    async def click(self, label: str) -> Run:
        path, button = self.button(label)
        if button is None:
            raise LookupError(f"no button {label!r}")
        if button.disabled:
            raise LookupError(f"the button {label!r} is disabled")
        return await self._send("click", label, {button.id: True}, fragment_id=self.fragments.get(path, ""))

    async def choose(self, label_prefix: str, option: str, nth: int = 0) -> Run:
        """Set a radio (the ``nth`` whose options include ``option``)."""
        radios = [
            e.radio
            for _, e in sorted(self.elements.items())
            if e.WhichOneof("type") == "radio" and option in e.radio.options
        ]
        if len(radios) <= nth:  # say what the page showed instead (a load test's error is a finding)
            shown = " | ".join(t[:120] for t in self.texts()[:6])
            raise LookupError(f"no radio number {nth + 1} offering {option!r}; the page showed: {shown}")
        radio = radios[nth]
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=radio.id, string_value=option)  # 1.67 sends the option itself
        self.widgets[radio.id] = state
        return await self._send("widgets", f"{label_prefix}={option}")

    def texts(self) -> list[str]:
        if self._texts is not None:
            return self._texts
        out = []
        for _, e in sorted(self.elements.items()):
            kind = e.WhichOneof("type")
            if kind == "markdown":
                out.append(e.markdown.body)
            elif kind == "alert":
                out.append(e.alert.body)
            elif kind == "progress":
                out.append(e.progress.text)
            elif kind == "html":
                out.append(e.html.body)
        self._texts = out
        return out

    def has_text(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts())
