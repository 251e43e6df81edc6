"""The teacher's PIN without a page, on a fake clock: the growing wait per browser, the
server-wide limit, forgetting, the sentences; the signed, expiring tokens of an unlocked browser
(expired, tampered with, another browser's, another PIN's, another server's, revoked)."""

from __future__ import annotations

import pytest

from siamese_ui.teacher_auth import (
    UNLOCK_HOURS,
    PinCheck,
    PinThrottle,
    Scope,
    TeacherTokens,
    Verdict,
    check_sentence,
    seconds_words,
)

PIN = "4711-tuesday"
RIGHT, WRONG, WAIT = Verdict.RIGHT, Verdict.WRONG, Verdict.WAIT


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_browser_waits_2_4_8_seconds_up_to_5_minutes_and_a_right_pin_resets_it():
    clock = Clock()
    throttle = PinThrottle(clock)
    assert [throttle.check("pupil", typed, PIN).verdict for typed in ("1", "2")] == [WRONG, WRONG]
    waits = []
    for _ in range(11):
        check = throttle.check("pupil", "0000", PIN)
        assert check.verdict == WRONG and check.scope == Scope.BROWSER
        waits.append(check.wait)
        held = throttle.check("pupil", PIN, PIN)  # the right PIN, while the wait runs: refused unread
        assert (held.verdict, held.scope) == (WAIT, Scope.BROWSER) and held.wait == pytest.approx(check.wait)
        clock.now += check.wait
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert throttle.check("pupil", f"  {PIN} ", PIN).verdict == RIGHT  # spaces around it are forgiven
    # reset: three free tries again
    assert [throttle.check("pupil", "x", PIN) for _ in range(2)] == [PinCheck(WRONG)] * 2
    assert throttle.check("pupil", "x", PIN) == PinCheck(WRONG, 2.0, Scope.BROWSER)


def test_one_browsers_wait_does_not_hold_another_browser_back():
    throttle = PinThrottle(Clock())
    for _ in range(3):
        throttle.check("pupil", "0000", PIN)
    assert throttle.check("pupil", PIN, PIN).verdict == WAIT
    assert throttle.check("teacher", PIN, PIN) == PinCheck(RIGHT)
    assert throttle.check("another pupil", "1", PIN) == PinCheck(WRONG)  # its own three free tries


def test_the_server_reads_at_most_20_wrong_pins_in_15_minutes_from_all_browsers_together():
    """A class (or one pupil clearing cookies: a new browser id each time) spreading its tries:
    20 wrong PINs from 20 browsers within 15 minutes; then every browser waits until the first
    of them is 15 minutes old, the teacher's too."""
    clock = Clock(0.0)
    throttle = PinThrottle(clock)
    for k in range(20):
        clock.now = 10.0 * k  # one every 10 s: no browser ever waits on its own
        check = throttle.check(f"browser {k}", "0000", PIN)
    assert check == PinCheck(WRONG, 900.0 - 190.0, Scope.SERVER)  # the first try (t=0) leaves at t=900
    clock.now = 200.0
    assert throttle.check("teacher", PIN, PIN) == PinCheck(WAIT, 700.0, Scope.SERVER)
    assert throttle.check("browser 0", PIN, PIN) == PinCheck(WAIT, 700.0, Scope.SERVER)
    clock.now = 900.0  # the first wrong PIN is 15 minutes old: one more is read
    assert throttle.check("browser 20", "0000", PIN) == PinCheck(WRONG, 10.0, Scope.SERVER)
    clock.now = 910.0
    assert throttle.check("teacher", PIN, PIN) == PinCheck(RIGHT)


def test_one_pupil_waiting_as_told_never_reaches_the_server_limit():
    """A pupil who tries again the moment each wait ends, for two hours: at most 12 wrong PINs
    in any 15 minutes (3 free, then 2 + 4 + … + 256 s, then one per 5 minutes), under the 20
    that hold the whole server back; the teacher can unlock at every moment."""
    clock = Clock(0.0)
    throttle = PinThrottle(clock)
    read = []
    while clock.now < 7200:
        check = throttle.check("pupil", "0000", PIN)
        assert check.verdict == WRONG and check.scope != Scope.SERVER
        read.append(clock.now)
        assert throttle.check("teacher", PIN, PIN).verdict == RIGHT
        clock.now += check.wait
    most = max(sum(start <= t < start + 900 for t in read) for start in read)
    assert most == 12


def test_a_browsers_wrong_pins_are_forgotten_an_hour_after_its_last_one():
    clock = Clock(0.0)
    throttle = PinThrottle(clock)
    for _ in range(3):
        throttle.check("pupil", "0000", PIN)
    clock.now = 3599.0
    assert throttle.check("pupil", "0000", PIN).wait == 4.0  # remembered: the 4th wrong PIN
    clock.now = 3599.0 + 3600.0
    assert throttle.check("pupil", "0000", PIN) == PinCheck(WRONG)  # forgotten: a free try again


def test_each_outcome_gets_one_whole_sentence():
    assert check_sentence(PinCheck(WRONG)) == "Wrong PIN."
    assert check_sentence(PinCheck(WRONG, 2.0, Scope.BROWSER)) == (
        "Wrong PIN. Too many wrong PINs from this browser: the next try is possible in 2 s."
    )
    assert check_sentence(PinCheck(WAIT, 255.2, Scope.BROWSER)) == (
        "Too many wrong PINs from this browser: try again in 4 min 16 s."
    )
    assert check_sentence(PinCheck(WAIT, 700.0, Scope.SERVER)) == (
        "Too many wrong PINs on this server in the last 15 minutes, from all browsers together: try again "
        "in 11 min 40 s. A browser that is already unlocked stays unlocked."
    )
    assert check_sentence(PinCheck(WRONG, 0.4, Scope.SERVER)).endswith("the next try is possible in 1 s.")
    assert [seconds_words(s) for s in (0.2, 1.0, 1.01, 119.0, 120.0, 300.0)] == [
        "1 s",
        "1 s",
        "2 s",
        "119 s",
        "2 min 0 s",
        "5 min 0 s",
    ]


# ---- tokens -----------------------------------------------------------------------------------------------
def test_a_token_opens_its_own_browser_under_its_pin_until_it_expires():
    clock = Clock(1_800_000_000.0)
    tokens = TeacherTokens(clock)
    token = tokens.sign("teacher", PIN)
    expiry = 1_800_000_000 + UNLOCK_HOURS * 3600
    assert token.startswith(f"{expiry}.") and [len(part) for part in token.split(".")[1:]] == [16, 64]
    assert tokens.expiry(token, "teacher", PIN) == expiry
    clock.now = expiry - 1
    assert tokens.expiry(token, "teacher", PIN) == expiry
    clock.now = expiry
    assert tokens.expiry(token, "teacher", PIN) is None  # expired


def test_tampered_foreign_and_revoked_tokens_are_refused():
    clock = Clock(1_800_000_000.0)
    tokens = TeacherTokens(clock)
    token = tokens.sign("teacher", PIN)
    expiry, nonce, mac = token.split(".")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    refused = {
        "a changed signature": f"{expiry}.{nonce}.{flipped}",
        "a later expiry": f"{int(expiry) + 3600}.{nonce}.{mac}",
        "another nonce": f"{expiry}.{'0' * 16}.{mac}",
        "no signature": f"{expiry}.{nonce}.",
        "a bare flag": "true",
        "empty": "",
        "upper-case hex": f"{expiry}.{nonce}.{mac.upper()}",
    }
    for why, forged in refused.items():
        assert tokens.expiry(forged, "teacher", PIN) is None, why
    assert tokens.expiry(token, "pupil", PIN) is None  # another browser's cookie id
    assert tokens.expiry(token, "teacher", "4712-tuesday") is None  # the PIN was changed
    assert TeacherTokens(clock).expiry(token, "teacher", PIN) is None  # another server process
    # a token can never last longer than UNLOCK_HOURS, even one signed with the server's own key
    far = int(clock.now) + UNLOCK_HOURS * 3600 + 60
    assert tokens.expiry(f"{far}.{nonce}.{tokens._mac(far, nonce, 'teacher', PIN)}", "teacher", PIN) is None
    assert tokens.expiry(token, "teacher", PIN) is not None
    tokens.revoke(token)
    assert tokens.expiry(token, "teacher", PIN) is None  # Lock
    again = tokens.sign("teacher", PIN)  # unlocking again in the same second: a token of its own
    assert again != token and tokens.expiry(again, "teacher", PIN) == int(expiry)


def test_revoked_tokens_are_forgotten_once_expired():
    clock = Clock(1_800_000_000.0)
    tokens = TeacherTokens(clock)
    old = tokens.sign("teacher", PIN)
    tokens.revoke(old)
    clock.now += UNLOCK_HOURS * 3600 + 1
    new = tokens.sign("teacher", PIN)
    tokens.revoke(new)
    assert list(tokens._revoked) == [new]  # the expired one is gone
