"""What the class board stores and checks, without the database: its records (a posted run, a
class), its errors (each a sentence for the person who caused it), and the checks on what people
type (class codes, nicknames). :mod:`siamese_core.serving.board` keeps them in SQL."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

from siamese_core.i18n import N_, _

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 6
# Letters and digits a code never uses (0/O, 1/I look alike), derived from the alphabet.
NEVER_IN_CODES = "".join(sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") - set(CODE_ALPHABET)))
NICKNAME_MAX = 24
CLASS_NAME_MAX = 60
SOLO_PREFIX = "solo-"  # a student's own board, for a laptop without a teacher
ALREADY_POSTED = N_("This run is already on a board: each run is posted once.")  # raised through _()


class BoardError(Exception):
    """A sentence for the person who caused it: a wrong code, a bad nickname, a closed class."""


class BoardUnavailable(BoardError):
    """The database cannot be reached or written: the board says so, nothing else breaks."""


class SchemaTooNew(BoardUnavailable):
    """The database was written by a newer version of the app."""


@dataclass(frozen=True)
class RunFacts:
    """What a finished run posts: every field read from the session's job and its evaluation,
    never typed by the student (:func:`siamese_ui.board.postable_runs` builds them)."""

    run_id: str  # unique per finished run: a run is posted once
    setup: str  # the configuration in words, without the sharing (that is ``shared``)
    shared: bool
    parameters: int  # the built Keras model's count_params()
    test_accuracy: float  # test pair accuracy at the run's threshold
    auc: float
    train_seconds: float
    dataset: str
    source: str = "Train page"


@dataclass(frozen=True)
class Posted:
    """Where a run was posted: the board's code, and whether the teacher removed it since."""

    code: str
    removed: bool = False


@dataclass(frozen=True)
class Entry:
    id: int
    class_code: str
    nickname: str
    student: str
    setup: str
    shared: bool
    parameters: int
    test_accuracy: float
    auc: float
    train_seconds: float
    dataset: str
    source: str
    posted_at: float


@dataclass(frozen=True)
class ClassInfo:
    code: str
    name: str
    solo: bool
    opened_at: float
    closed_at: float | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


# ---- checks on what people type --------------------------------------------------------------------------
def clean_nickname(raw: str) -> str:
    """A nickname as stored: trimmed, 1 to 24 printable characters; else a BoardError saying why.
    Shown escaped everywhere (it may contain < or &: that is allowed, and harmless)."""
    nickname = " ".join(str(raw).split())
    if not nickname:
        raise BoardError(_("Type a nickname first (what the class will see next to your run)."))
    if len(nickname) > NICKNAME_MAX:
        raise BoardError(
            _("A nickname has at most {most} characters; this one has {count}.").format(
                most=NICKNAME_MAX, count=len(nickname)
            )
        )
    if not nickname.isprintable():
        raise BoardError(
            _("A nickname can only contain printable characters (letters, digits, signs, spaces).")
        )
    return nickname


def clean_code(raw: str) -> str:
    """A class code as stored (upper case, spaces and dashes dropped); else a BoardError that
    says what is wrong with it: its length, or the characters codes never use (read from
    ``CODE_ALPHABET``), or anything else that is not a letter or digit."""
    code = "".join(ch for ch in str(raw).upper() if ch not in " -")
    never = _listed(NEVER_IN_CODES)
    if len(code) != CODE_LENGTH:
        raise BoardError(
            _(
                "{typed} is not a class code: a code has {length} characters (this has {count}), letters "
                "and digits like K7QX2M, never {never}. Check the one your teacher shows."
            ).format(typed=shown(raw), length=CODE_LENGTH, count=len(code), never=never)
        )
    if misread := sorted({ch for ch in code if ch in NEVER_IN_CODES}):
        raise BoardError(
            _(
                "{typed} is not a class code: codes never use {never}, because they are easy to misread "
                "on a projector, and this one has {misread}. Look again at the code your teacher shows."
            ).format(typed=shown(raw), never=never, misread=_listed(misread, "and"))
        )
    if any(ch not in CODE_ALPHABET for ch in code):
        raise BoardError(
            _(
                "{typed} is not a class code: a code has only letters and digits, like K7QX2M. "
                "Check the one your teacher shows."
            ).format(typed=shown(raw))
        )
    return code


def _listed(characters, conjunction: str = "or") -> str:
    """``0, 1, I or O``: a few characters in words (in Chinese: ``0、1、I 或 O``)."""
    items = list(characters)
    if len(items) == 1:
        return items[0]
    # ", " is the separator of a list of single characters (Chinese uses 、)
    first, last = _(", ").join(items[:-1]), items[-1]
    if conjunction == "and":
        return _("{first} and {last}").format(first=first, last=last)
    return _("{first} or {last}").format(first=first, last=last)


def new_code(rng: Any = secrets) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def shown(raw: str, limit: int = 20) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(raw))
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


def finite_number(name: str, value: float, low: float, high: float) -> float:
    """``value`` when it is a finite number in [low, high]; ``name`` is marked with ``N_()``."""
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise BoardError(
            _("This run's {name} ({value}) is not a number the board can show.").format(
                name=_(name), value=value
            )
        )
    return value
