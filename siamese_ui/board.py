"""The class board in the app: which database (``st.connection``), what a session may post
(its own finished runs, as :class:`~siamese_core.board.RunFacts`), the board's plot and tables.

The storage rules live in siamese_core/board.py; this module only connects them to sessions.
"""

from __future__ import annotations

import html
import re
import statistics
import threading
import time
import weakref
from pathlib import Path

import streamlit as st

from siamese_core.board import (
    Board,
    BoardError,
    BoardUnavailable,
    ClassInfo,
    Entry,
    RunFacts,
    setup_words,
    summary,
    unavailable_sentence,
)
from siamese_core.jobs import Status

from .session import TRAIN_JOB
from .settings import text_setting
from .student import student_id

BOARD_CODE = "board.class"  # the class-code box's key, and the link's parameter (?board.class=K7QX2M)
PROJECTOR = "board.projector"  # the projector view: the board alone, big
JOINED = "board.joined"  # {class code: nickname} this session joined
SOLO_NICKNAME = "board.solo_nickname"
REFRESH_SECONDS = 3.0  # the board redraws itself this often (one small query)
DEFAULT_PATH = Path.home() / ".siamese-lab" / "board.sqlite"
SHARED_COLOURS = {"shared": "#2e7d32", "unshared": "#c62828"}


# ---- which database -------------------------------------------------------------------------------------
def board_url() -> str | None:
    """``SIAMESE_LAB_BOARD_URL`` (environment or secret), any SQLAlchemy URL; else None when the
    secrets hold a ``[connections.board]`` section (st.connection reads it itself); else a SQLite
    file at ``SIAMESE_LAB_BOARD_PATH`` (default ~/.siamese-lab/board.sqlite)."""
    if url := text_setting("SIAMESE_LAB_BOARD_URL"):
        return url
    try:
        if "board" in st.secrets.get("connections", {}):
            return None
    except Exception:
        pass
    path = Path(text_setting("SIAMESE_LAB_BOARD_PATH") or DEFAULT_PATH)
    return f"sqlite:///{path.expanduser()}"


def open_board() -> Board:
    """The server's board, its schema checked once; a BoardUnavailable (one sentence) when the
    database cannot be reached or read. Never raises anything else."""
    url = board_url()
    try:
        if url is not None and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        options = {} if url is None else {"url": url}
        if not (url or _secret_url()).startswith("sqlite"):
            # a server across the network: check a pooled connection before use (hosted databases
            # drop idle ones), and give up on an unreachable host after 5 s instead of hanging
            options.update(pool_pre_ping=True, connect_args={"connect_timeout": 5})
        connection = st.connection("board", type="sql", **options)
        return _checked_board(connection.engine)
    except BoardError:
        raise
    except Exception as error:  # a bad URL, a missing driver, an unwritable folder
        raise BoardUnavailable(unavailable_sentence(error)) from error


def _secret_url() -> str:
    try:
        return str(st.secrets["connections"]["board"].get("url", ""))
    except Exception:
        return ""


def md_text(text: str) -> str:
    """A student's text (a nickname, a class name) for st.markdown: every Markdown, LaTeX ($),
    directive (:red[…]) and HTML character escaped, so it shows as typed and does nothing."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")


_schema_lock = threading.Lock()
_schema_checked: weakref.WeakSet = weakref.WeakSet()


def _checked_board(engine) -> Board:
    board = Board(engine)
    with _schema_lock:  # once per engine and server (retried while it fails)
        if engine not in _schema_checked:
            board.ensure_schema()
            _schema_checked.add(engine)
    return board


# ---- what a session may post ---------------------------------------------------------------------------
def postable_runs() -> list[RunFacts]:
    """This session's finished runs, their facts read from the jobs and their evaluations."""
    runs = []
    job = st.session_state.get(TRAIN_JOB)
    if job is not None and (facts := training_facts(job)) is not None:
        runs.append(facts)
    from .race_view import finished_race

    if (race := finished_race()) is not None:
        runs += race_facts(race)
    return runs


def race_facts(race) -> list[RunFacts]:
    """Both sides of a finished race (Weight-sharing lab), each postable once."""
    return [
        RunFacts(
            run_id=side.run_id,
            setup=setup_words(race.config),
            shared=side.shared,
            parameters=side.parameters,
            test_accuracy=side.test_accuracy,
            auc=side.auc,
            train_seconds=side.seconds,
            dataset=race.dataset,
            source="race",
        )
        for side in race.sides
    ]


def training_facts(job) -> RunFacts | None:
    """A Train page run's facts, once it has finished with a test report (a stopped run is not
    posted: the board compares finished runs)."""
    snapshot = job.snapshot()
    report = getattr(job, "report", None)
    if snapshot.status != Status.FINISHED or job.model is None or report is None or snapshot.result is None:
        return None
    return RunFacts(
        run_id=job.run_id,
        setup=setup_words(job.config),
        shared=job.config.shared,
        parameters=int(job.model.count_params()),
        test_accuracy=float(report.accuracy),
        auc=float(report.auc),
        train_seconds=float(snapshot.result["train_seconds"]),
        dataset=job.dataset_ref.name,
        source="Train page",
    )


def describe(facts: RunFacts) -> str:
    """One line of a run's facts, as markdown (the setup is ours: preset and field names)."""
    return (
        f"**{facts.setup}**, {'shared' if facts.shared else 'unshared'} weights · {facts.parameters:,} parameters · "
        f"test pair accuracy **{100 * facts.test_accuracy:.2f}%** · AUC {facts.auc:.4f} · "
        f"{facts.train_seconds:.1f} s of training · {facts.dataset}"
    )


# ---- the session's class -----------------------------------------------------------------------------
def joined() -> dict[str, str]:
    return st.session_state.setdefault(JOINED, {})


def target_class(store: Board, code: str | None) -> tuple[ClassInfo, str | None]:
    """The board a session looks at: the class of ``code``, else the student's own board.
    Returns (class, nickname or None when not a member)."""
    student = student_id()
    if not code:
        return store.solo_class(student), st.session_state.get(SOLO_NICKNAME)
    info = store.class_info(code)
    nickname = joined().get(code) or store.nickname(code, student)  # a reload finds the membership again
    if nickname:
        joined()[code] = nickname
    return info, nickname


# ---- drawing ------------------------------------------------------------------------------------------
def board_figure(entries: list[Entry]):
    """Test pair accuracy against parameters, shared and unshared in two colours; the hover
    shows the nickname and setup, escaped (a nickname is the students' own text)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for shared in (True, False):
        group = [e for e in entries if e.shared == shared]
        if not group:
            continue
        name = "shared" if shared else "unshared"
        figure.add_trace(
            go.Scatter(
                x=[e.parameters for e in group],
                y=[100 * e.test_accuracy for e in group],
                mode="markers",
                name=f"{name} weights",
                marker=dict(size=14, color=SHARED_COLOURS[name], line=dict(width=1, color="white")),
                customdata=[[html.escape(e.nickname), html.escape(e.setup), f"{e.auc:.4f}"] for e in group],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                "%{x:,} parameters<br>test pair accuracy %{y:.2f}%<br>AUC %{customdata[2]}<extra></extra>",
            )
        )
    figure.update_layout(
        height=420,
        margin=dict(t=30, b=10),
        xaxis_title="parameters (log scale)",
        yaxis_title="test pair accuracy (%)",
        legend=dict(orientation="h", y=1.08),
    )
    figure.update_xaxes(type="log")
    return figure


def entry_table(entries: list[Entry]) -> list[dict]:
    return [
        {
            "nickname": e.nickname,
            "setup": e.setup,
            "weights": "shared" if e.shared else "unshared",
            "parameters": e.parameters,
            "test pair accuracy (%)": round(100 * e.test_accuracy, 2),
            "AUC": round(e.auc, 4),
            "training (s)": round(e.train_seconds, 1),
            "data set": e.dataset,
            "from": e.source,
            "posted": time.strftime("%H:%M:%S", time.localtime(e.posted_at)),
        }
        for e in entries
    ]


def summary_table(entries: list[Entry]) -> list[dict]:
    return [
        {
            "setup": s.setup,
            "weights": "shared" if s.shared else "unshared",
            "runs": s.count,
            "median test pair accuracy (%)": round(100 * s.median_accuracy, 2),
            "best (%)": round(100 * s.best_accuracy, 2),
        }
        for s in summary(entries)
    ]


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_sentence(entries: list[Entry]) -> str:
    """What the projector says in words, computed from the entries."""
    setups = len({e.setup for e in entries})
    shared = [e.test_accuracy for e in entries if e.shared]
    unshared = [e.test_accuracy for e in entries if not e.shared]
    students = len({e.student for e in entries})
    text = f"{plural(len(entries), 'run')} from {plural(students, 'student')}, {plural(setups, 'setup')}."
    if shared and unshared:
        gap = statistics.median(shared) - statistics.median(unshared)
        params_shared = statistics.median(e.parameters for e in entries if e.shared)
        params_unshared = statistics.median(e.parameters for e in entries if not e.shared)
        text += (
            f" Median test pair accuracy: shared {100 * statistics.median(shared):.2f}%, unshared "
            f"{100 * statistics.median(unshared):.2f}% ({'+' if gap >= 0 else '−'}{abs(100 * gap):.2f} points for sharing), "
            f"with {params_unshared / params_shared:.2f}× the parameters when unshared (medians)."
        )
    return text


# The teacher's PIN, its waits and the cookie that keeps a browser unlocked: siamese_ui/teacher_auth.py.
