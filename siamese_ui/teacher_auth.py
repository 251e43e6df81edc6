"""The teacher's PIN: where it is set, how guessing it is slowed down, and how one browser stays
unlocked across reloads.

**Guessing.** Wrong PINs are counted per browser (the student cookie's id, which ties a browser's
tabs together, :mod:`siamese_ui.student`): after ``FREE_TRIES`` wrong PINs that browser waits 2,
4, 8 … seconds (at most ``LONGEST_WAIT``) before its next try is read, so one pupil typing PINs
keeps only themselves out. Clearing cookies gives a browser a new id, so the whole server also
reads at most ``SERVER_TRIES`` wrong PINs in any ``SERVER_WINDOW``: a class cannot guess faster
by spreading its tries, and one pupil alone, waiting as told, stays under it (12 tries at most in
15 minutes). The network address is not used: at school every browser usually reaches a hosted
app from the school's one address, the teacher's too, so a limit per address would be the
server-wide lock-out again.

**Staying unlocked.** A right PIN gives the session a token, and (unless the teacher says not to)
the browser a cookie holding the same token: ``expiry.nonce.HMAC-SHA256(key, "expiry:nonce:browser
id")``, where the key is an HMAC of the PIN under a random secret made when the server process
starts, and the nonce makes each unlock's token its own (so Lock revokes only that one). So a
token is bound to its browser and its expiry (``UNLOCK_HOURS``); changing the PIN or
restarting the server voids every token; and a copied cookie cannot be used to test PINs
offline (the random secret never leaves the server). Tokens are compared in constant time;
*Lock* revokes the token for good. A session re-checks its token on every run, so an expired token
or a changed PIN locks an open page too.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import streamlit as st

from siamese_core.i18n import _

from .settings import text_setting
from .student import student_id

PIN_NAME = "SIAMESE_LAB_TEACHER_PIN"
UNLOCKED = "teacher.unlocked"  # session key: the token this session unlocked with
REMEMBERED = "teacher.remembered"  # session key: this browser keeps the unlock (the cookie)
COOKIE_PENDING = "teacher.cookie_pending"  # session key: the cookie to write on the next run
COOKIE = "siamese_lab_teacher"
UNLOCK_HOURS = 12  # a school day from the morning's unlock; then the PIN again
_TOKEN = re.compile(r"^([0-9]{1,12})\.([0-9a-f]{16})\.([0-9a-f]{64})$")  # expiry.nonce.signature


def teacher_pin() -> str | None:
    """``SIAMESE_LAB_TEACHER_PIN`` (environment, or a Streamlit secret); None: no teacher page."""
    return text_setting(PIN_NAME)


# ---- guessing ---------------------------------------------------------------------------------------------
class Verdict(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    WAIT = "wait"  # refused unread: a wait is running


class Scope(StrEnum):
    """Whose tries a wait holds back."""

    BROWSER = "browser"
    SERVER = "server"


@dataclass(frozen=True)
class PinCheck:
    """What one try of a PIN gave."""

    verdict: Verdict
    wait: float = 0.0  # seconds before the next try is read (0: now)
    scope: Scope | None = None  # whose wait it is, when there is one


@dataclass
class _Browser:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


class PinThrottle:
    """Wrong PINs per browser, with a growing wait, and for the whole server, in a sliding
    window. Thread-safe; one per server."""

    FREE_TRIES = 3  # per browser, before the waits begin
    LONGEST_WAIT = 300.0  # per browser: 2, 4, 8 … 256, then 300 s
    FORGET_AFTER = 3600.0  # a browser's wrong tries are forgotten an hour after its last one
    SERVER_TRIES = 20  # wrong PINs the whole server reads …
    SERVER_WINDOW = 900.0  # … in any 15 minutes

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        # Only a wrong PIN that was read adds an entry, and the server reads at most SERVER_TRIES
        # of them per window: both stay small however many ids an attacker makes up.
        self._browsers: dict[str, _Browser] = {}
        self._server: deque[float] = deque()

    def check(self, browser: str, typed: str, pin: str) -> PinCheck:
        """Read a try from ``browser``, unless a wait holds it back (WAIT, read nothing)."""
        with self._lock:
            now = self.clock()
            self._forget(now)
            if (held := self._held(browser, now)) is not None:
                return held
            if _same(typed.strip(), pin):
                self._browsers.pop(browser, None)
                return PinCheck(Verdict.RIGHT)
            state = self._browsers.setdefault(browser, _Browser())
            state.failures += 1
            state.last_failure = now
            if state.failures >= self.FREE_TRIES:
                state.locked_until = now + min(
                    self.LONGEST_WAIT, 2.0 ** (state.failures - self.FREE_TRIES + 1)
                )
            self._server.append(now)
            after = self._held(browser, now)
            return (
                PinCheck(Verdict.WRONG) if after is None else PinCheck(Verdict.WRONG, after.wait, after.scope)
            )

    def _held(self, browser: str, now: float) -> PinCheck | None:
        """The wait this browser's next try meets (the longer of its own and the server's)."""
        state = self._browsers.get(browser)
        mine = state.locked_until - now if state is not None else 0.0
        while self._server and self._server[0] <= now - self.SERVER_WINDOW:
            self._server.popleft()
        everyone = (
            self._server[0] + self.SERVER_WINDOW - now if len(self._server) >= self.SERVER_TRIES else 0.0
        )
        if max(mine, everyone) <= 0:
            return None
        if everyone >= mine:
            return PinCheck(Verdict.WAIT, everyone, Scope.SERVER)
        return PinCheck(Verdict.WAIT, mine, Scope.BROWSER)

    def _forget(self, now: float) -> None:
        for browser in [
            b
            for b, s in self._browsers.items()
            if s.locked_until <= now and s.last_failure <= now - self.FORGET_AFTER
        ]:
            del self._browsers[browser]


def _same(typed: str, pin: str) -> bool:
    """Constant time, whatever the lengths (digests of equal length are compared)."""
    return hmac.compare_digest(hashlib.sha256(typed.encode()).digest(), hashlib.sha256(pin.encode()).digest())


def seconds_words(seconds: float) -> str:
    """A wait as the page says it: whole seconds, rounded up (never "0 s" while one runs)."""
    whole = max(1, math.ceil(seconds - 1e-9))
    if whole < 120:
        return _("{seconds} s").format(seconds=whole)
    return _("{minutes} min {seconds} s").format(minutes=whole // 60, seconds=whole % 60)


def check_sentence(check: PinCheck) -> str:
    """The one sentence a try gets (a right PIN gets none: the page opens)."""
    minutes = round(PinThrottle.SERVER_WINDOW / 60)
    wait = seconds_words(check.wait)
    if check.verdict == Verdict.WRONG:
        if check.scope == Scope.BROWSER:
            return _(
                "Wrong PIN. Too many wrong PINs from this browser: the next try is possible in {wait}."
            ).format(wait=wait)
        if check.scope == Scope.SERVER:
            return _(
                "Wrong PIN. Too many wrong PINs on this server in the last {minutes} minutes, from all "
                "browsers together: the next try is possible in {wait}."
            ).format(minutes=minutes, wait=wait)
        return _("Wrong PIN.")
    if check.scope == Scope.SERVER:
        return _(
            "Too many wrong PINs on this server in the last {minutes} minutes, from all browsers "
            "together: try again in {wait}. A browser that is already unlocked stays unlocked."
        ).format(minutes=minutes, wait=wait)
    return _("Too many wrong PINs from this browser: try again in {wait}.").format(wait=wait)


# ---- staying unlocked ---------------------------------------------------------------------------------------
class TeacherTokens:
    """Signs and checks the unlocked browsers' tokens. One per server process: its secret is
    random and made once, so a restart voids every token."""

    def __init__(self, clock: Callable[[], float] = time.time, secret: bytes | None = None):
        self.clock = clock
        self._secret = secret or secrets.token_bytes(32)
        self._revoked: dict[str, float] = {}  # token -> its expiry (forgotten once expired)
        self._lock = threading.Lock()

    def _key(self, pin: str) -> bytes:
        return hmac.new(self._secret, b"siamese-lab teacher PIN\0" + pin.encode(), hashlib.sha256).digest()

    def _mac(self, expiry: int, nonce: str, browser: str, pin: str) -> str:
        message = f"{expiry}:{nonce}:{browser}".encode()
        return hmac.new(self._key(pin), message, hashlib.sha256).hexdigest()

    def sign(self, browser: str, pin: str) -> str:
        """A new token for this browser, valid for UNLOCK_HOURS under this PIN."""
        expiry, nonce = int(self.clock()) + UNLOCK_HOURS * 3600, secrets.token_hex(8)
        return f"{expiry}.{nonce}.{self._mac(expiry, nonce, browser, pin)}"

    def expiry(self, token: str, browser: str, pin: str) -> float | None:
        """When a valid token expires; None when it is not one (forged, tampered with, another
        browser's, signed under another PIN or by another server process, expired or revoked)."""
        match = _TOKEN.match(token or "")
        if match is None:
            return None
        expiry = int(match.group(1))
        now = self.clock()
        if not now < expiry <= now + UNLOCK_HOURS * 3600:
            return None
        if not hmac.compare_digest(match.group(3), self._mac(expiry, match.group(2), browser, pin)):
            return None
        with self._lock:
            if token in self._revoked:
                return None
        return float(expiry)

    def revoke(self, token: str) -> None:
        """Lock: this token opens nothing again, in any tab (its cookie may still be sent)."""
        match = _TOKEN.match(token or "")
        if match is None:
            return
        with self._lock:
            now = self.clock()
            for old in [t for t, expiry in self._revoked.items() if expiry <= now]:
                del self._revoked[old]
            self._revoked[token] = float(match.group(1))


@st.cache_resource
def pin_throttle() -> PinThrottle:
    return PinThrottle()


@st.cache_resource
def teacher_tokens() -> TeacherTokens:
    return TeacherTokens()


# ---- the page's side ----------------------------------------------------------------------------------------
def _cookie() -> str:
    try:
        value = st.context.cookies.get(COOKIE, "")
    except Exception:  # no request context (AppTest)
        value = ""
    return value if isinstance(value, str) else ""


def unlocked_until(pin: str) -> float | None:
    """When this session's unlock ends (a Unix time), or None when it is locked. The session's
    token is checked on every run; without one, the cookie this browser sent is tried."""
    tokens, browser = teacher_tokens(), student_id()
    token = st.session_state.get(UNLOCKED, "")
    if token and (until := tokens.expiry(token, browser, pin)) is not None:
        return until
    st.session_state.pop(UNLOCKED, None)
    cookie = _cookie()
    if cookie and (until := tokens.expiry(cookie, browser, pin)) is not None:
        st.session_state[UNLOCKED] = cookie
        st.session_state[REMEMBERED] = True
        return until
    return None


def remembered() -> bool:
    """Does this browser keep the unlock across reloads (its cookie), or only this session?"""
    return bool(st.session_state.get(REMEMBERED))


def unlock(typed: str, pin: str, remember: bool) -> PinCheck:
    """Try a PIN from this browser; a right one unlocks this session (and, with ``remember``,
    this browser: the cookie is written on the next run, by :func:`write_cookie`)."""
    browser = student_id()
    check = pin_throttle().check(browser, typed, pin)
    if check.verdict == Verdict.RIGHT:
        token = teacher_tokens().sign(browser, pin)
        st.session_state[UNLOCKED] = token
        st.session_state[REMEMBERED] = remember
        if remember:
            st.session_state[COOKIE_PENDING] = token
    return check


def lock() -> None:
    """Lock this session and this browser: the token is revoked and the cookie removed."""
    for token in (st.session_state.pop(UNLOCKED, ""), _cookie()):
        teacher_tokens().revoke(token)
    st.session_state[REMEMBERED] = False
    st.session_state[COOKIE_PENDING] = ""


def write_cookie() -> None:
    """Write (or, after Lock, remove) this browser's cookie, once, where a page asked for it."""
    token = st.session_state.pop(COOKIE_PENDING, None)
    if token is None:
        return
    match = _TOKEN.match(token)
    # Our own constant script: a token is digits, a dot and hex (checked), nothing a user typed.
    max_age = int(match.group(1)) - int(time.time()) if match else 0
    value = token if match else ""
    st.html(
        f"<script>document.cookie = '{COOKIE}={value}; path=/; max-age={max(max_age, 0)}; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
        width=1,
    )
