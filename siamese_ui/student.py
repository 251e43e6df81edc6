"""Who is this student, across reloads and tabs: a random id kept in a browser cookie, and the
server's registry of each student's training.

A reload (or a second tab) opens a new Streamlit session with an empty ``st.session_state``;
without this, a reload lost the run without a word while the orphaned run kept its slot, and
two reloads or two tabs let one student hold every slot. With it, every tab of one browser is
one student: a reload finds its run again, a second tab shows the same run, and one student
has at most one training. A link opened in another browser carries no cookie, so it is
another student. The cookie holds nothing but the random id (no name, nothing secret).
"""

from __future__ import annotations

import re
import secrets
import threading
import weakref
from collections.abc import Callable
from typing import Any

import streamlit as st

from siamese_core.i18n import _

from .patches import current_session_id, session_is_open

COOKIE = "siamese_lab_student"
STUDENT = "student.id"  # session key
_VALID = re.compile(r"^[0-9a-f]{32}$")


def student_id() -> str:
    """This browser's student id: from the cookie sent with this session's first request,
    else a new one, written to the cookie for the next reload or tab."""
    if STUDENT in st.session_state:
        return st.session_state[STUDENT]
    cookie = _cookie_id()
    sid = cookie or secrets.token_hex(16)
    st.session_state[STUDENT] = sid
    if sid != cookie and current_session_id() is not None:
        _write_cookie(sid)
    return sid


def _cookie_id() -> str:
    """The valid student id the browser's cookie holds, else ""."""
    try:
        cookie = st.context.cookies.get(COOKIE, "")
    except Exception:  # no request context (AppTest)
        return ""
    return cookie if isinstance(cookie, str) and _VALID.match(cookie) else ""


def known_student() -> bool:
    """Has this session a student id without writing one (a cookie from an earlier visit, or
    one read already)? A page may then look the student up without putting the cookie's script
    on the page, which would shift the page's elements on its first run only (and remount a
    drawing canvas under the student's pen)."""
    return STUDENT in st.session_state or bool(_cookie_id())


def _write_cookie(sid: str) -> None:
    # Our own constant script with a hex id: nothing a user typed reaches it.
    st.html(
        f"<script>document.cookie = '{COOKIE}={sid}; path=/; max-age=86400; SameSite=Lax';</script>",
        unsafe_allow_javascript=True,
        width=1,
    )


class Kept(dict):
    """A student's own things that a reload or a second tab finds again (Your own symbols' gallery
    and scores): a dict the registry holds weakly, kept alive by the sessions that use it (a closed
    tab's session lives on for Streamlit's ``server.disconnectedSessionTTL``, 120 s)."""


def kept(key: str) -> Kept:
    """This student's :class:`Kept` under ``key`` (a page's session key), held by this session's
    state: the same in every tab of the browser and after a reload."""
    if key not in st.session_state:
        from .resources import student_registry

        st.session_state[key] = student_registry().kept(student_id(), key)
    return st.session_state[key]


def keep_settings(what: str, keys) -> Callable[[], None]:
    """A page's settings (the widgets' ``keys``) kept for the student, as :func:`kept` keeps their
    things: a reload or a second tab opens them as the student last left them.

    Call it before the widgets are drawn: each setting this session does not have is restored from
    the student's. Call what it returns after them: it keeps only the settings this session changed
    since it last restored or kept them, so a rerun of an older tab (any click there) does not write
    its values back over those the student changed in a newer tab."""
    shared = kept(what)
    seen = st.session_state.setdefault(what + ".seen", {})  # this session's last word on each
    for key in keys:
        if key not in st.session_state and key in shared:
            st.session_state[key] = seen[key] = shared[key]

    def remember() -> None:
        for key in keys:
            if key in st.session_state and (key not in seen or seen[key] != st.session_state[key]):
                shared[key] = seen[key] = st.session_state[key]

    return remember


class StudentRegistry:
    """Server-wide: each student's latest training job and open sessions.

    Jobs are held through weak references: a job lives as long as its training thread or
    its owner's session state, never because of this registry (memory stays flat).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, weakref.ref] = {}
        self._tasks: dict[str, weakref.ref] = {}  # a lesson's training (More lessons)
        self._sessions: dict[str, set[str]] = {}
        self._runs: dict[str, int] = {}  # trainings each student has started on this server
        self._numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # job -> its number
        self._kept: dict[tuple[str, str], weakref.ref] = {}  # (student, what) -> Kept

    def job(self, student: str) -> Any | None:
        with self._lock:
            ref = self._jobs.get(student)
            return ref() if ref is not None else None

    def set_job(self, student: str, job: Any) -> None:
        with self._lock:
            self._jobs[student] = weakref.ref(job)
            if job not in self._numbers:
                self._runs[student] = self._runs.get(student, 0) + 1
                self._numbers[job] = self._runs[student]
            self._prune()

    def number(self, job: Any) -> int | None:
        """Which training of its student this job is (1, 2, ...), counted on this server: a reload
        or a second tab, a new session of the same student, names the run as the first tab did."""
        with self._lock:
            return self._numbers.get(job)

    def kept(self, student: str, what: str) -> Kept:
        """The student's ``what`` (a page's key), the one their other sessions use, or a new one."""
        with self._lock:
            ref = self._kept.get((student, what))
            found = ref() if ref is not None else None
            if found is None:
                found = Kept()
                self._kept = {k: r for k, r in self._kept.items() if r() is not None}
                self._kept[(student, what)] = weakref.ref(found)
            return found

    def task(self, student: str) -> Any | None:
        """The student's latest lesson task (a race, a More lessons training), while it lives."""
        with self._lock:
            ref = self._tasks.get(student)
            return ref() if ref is not None else None

    def set_task(self, student: str, task: Any) -> None:
        with self._lock:
            self._tasks[student] = weakref.ref(task)

    def busy(self, student: str) -> str:
        """What this student is training right now ("" when nothing): one training per student,
        whichever page started it. Asked in a script run (a button's callback): in the session's
        language, a phrase for a sentence ("You already have {doing} going")."""
        job = self.job(student)
        if job is not None and job.snapshot().status.active:
            return _("a training on the Train page")
        task = self.task(student)
        if task is not None and task.alive:
            return task.description or _("a training on More lessons ({name})").format(name=task.name)
        return ""

    def forget_job(self, student: str, job: Any) -> None:
        with self._lock:
            ref = self._jobs.get(student)
            if ref is not None and ref() is job:
                del self._jobs[student]

    def watch(self, student: str, session_id: str | None) -> None:
        """Note that this session belongs to this student (called on each Train page run)."""
        if session_id is None:
            return
        with self._lock:
            self._sessions.setdefault(student, set()).add(session_id)

    def owner_present(
        self, student: str, is_open: Callable[[str], bool | None] = session_is_open
    ) -> bool | None:
        """Is any tab of this student still open? None when no session can be asked."""
        with self._lock:
            sessions = list(self._sessions.get(student, ()))
        answers = [is_open(s) for s in sessions]
        if not answers or all(a is None for a in answers):
            return None
        # Closed sessions stay in the set (a few ids per student): forgetting them would turn
        # "every tab is closed" into "nobody to ask", and the run would never be let go.
        return any(answers)

    def _prune(self) -> None:
        for student in [s for s, ref in self._tasks.items() if ref() is None]:
            del self._tasks[student]
        for student in [s for s, ref in self._jobs.items() if ref() is None]:
            del self._jobs[student]
            if student not in self._tasks:
                self._sessions.pop(student, None)

    def __len__(self) -> int:
        with self._lock:
            self._prune()
            return len(self._jobs)


def keep_alive_for(student: str, registry: StudentRegistry, grace: float) -> Callable[[], bool]:
    """ "Is any tab of this student still open?", with a grace period, for a training thread.
    Where no session can be asked (AppTest), the answer is yes."""
    from siamese_core.jobs import with_grace

    registry.watch(student, current_session_id())
    return with_grace(lambda: registry.owner_present(student) is not False, grace)
