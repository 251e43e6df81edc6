"""The class board in the app: which database (``st.connection``), what a session may post
(its own finished runs, as :class:`~siamese_core.serving.board.RunFacts`), the board's plot and tables.

The storage rules live in siamese_core/serving/board.py; this module only connects them to sessions.
"""

from __future__ import annotations

import html
import re
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from siamese_core.i18n import N_, _, ngettext
from siamese_core.jobs import Status
from siamese_core.network.data import dataset_title
from siamese_core.serving.board import (
    SOLO_PREFIX,
    Board,
    BoardError,
    BoardUnavailable,
    ClassInfo,
    Entry,
    Posted,
    RunFacts,
    unavailable_sentence,
)
from siamese_core.serving.board_stats import SharingGap, setup_shown, setup_words, sharing_gaps, summary

from .palette import SHARING
from .session import TRAIN_JOB, find_my_training
from .settings import text_setting
from .student import student_id

BOARD_CODE = "board.class"  # the class-code box's key, and the link's parameter (?board.class=K7QX2M)
PROJECTOR = "board.projector"  # the projector view: the board alone, big
JOINED = "board.joined"  # {class code: nickname} this session joined
# The nickname on the student's own board: a plain session value, not the text box's own state.
# The box hides once a nickname is set, and Streamlit drops the state of a widget that a run does
# not draw, so the next click (Post) found no nickname and a disabled button (found by the
# keyboard test, tests/e2e/test_keyboard.py). The box writes here when it changes.
SOLO_NICKNAME = "board.solo_nickname"
SOLO_NICKNAME_BOX = "board.solo_nickname_box"


def keep_solo_nickname() -> None:
    st.session_state[SOLO_NICKNAME] = st.session_state[SOLO_NICKNAME_BOX].strip() or None


REFRESH_SECONDS = 3.0  # the board redraws itself this often (one small query)
PROJECTOR_FONT_PX = 20  # the projector view's chart text: axis titles, ticks, legend, counts
DEFAULT_PATH = Path.home() / ".siamese-lab" / "board.sqlite"


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
    """This student's finished runs, their facts read from the jobs and their evaluations. A
    reload, a new tab or the teacher's link (a new session) finds them the way the Train page
    finds its run: through the server's registry of each student's training and task."""
    find_my_training()  # (the race's task is found by finished_race, through run_control.task_of)
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
        parameters=int(job.model.facts.parameters),
        test_accuracy=float(report.accuracy),
        auc=float(report.auc),
        train_seconds=float(snapshot.result.train_seconds),
        dataset=job.dataset_ref.name,
        source="Train page",
    )


def weights_words(shared: bool) -> str:
    """How a run's two branches are, in words: "shared weights" or "unshared weights"."""
    return _("shared weights") if shared else _("unshared weights")


def sharing_word(shared: bool) -> str:
    """The table cells' one word for it: "shared" or "unshared"."""
    return _("shared") if shared else _("unshared")


def describe(facts: RunFacts) -> str:
    """One line of a run's facts, as markdown (the setup is ours: preset and field names)."""
    return _(
        "**{setup}**, {weights} · {parameters:,} parameters · test pair accuracy **{accuracy:.2f}%** · "
        "AUC {auc:.4f} · {seconds:.1f} s of training · {dataset}"
    ).format(
        setup=setup_shown(facts.setup),
        weights=weights_words(facts.shared),
        parameters=facts.parameters,
        accuracy=100 * facts.test_accuracy,
        auc=facts.auc,
        seconds=facts.train_seconds,
        dataset=dataset_title(facts.dataset),  # "full MNIST (70,000 digits)", not the key "mnist"
    )


# ---- the session's class -----------------------------------------------------------------------------
def joined() -> dict[str, str]:
    return st.session_state.setdefault(JOINED, {})


def remember_class(store: Board) -> None:
    """Before the class code box is drawn: a session that opens the board without a code (a
    reload on another page, a new tab) gets the open class this student joined last, kept by
    student id in the board's database. A box the student empties stays empty (their own board)."""
    if BOARD_CODE in st.session_state or st.query_params.get(BOARD_CODE):
        return
    if (found := store.joined_class(student_id())) is not None:
        st.session_state[BOARD_CODE] = found[0].code


def posted_where(store: Board, posted: Posted, shown: ClassInfo) -> str:
    """Where a posted run is, in words, for the line under the board being looked at (posted
    once: a removed run cannot be posted again)."""
    code, removed = posted.code, posted.removed
    if code == shown.code:
        return _("removed by the teacher from this board") if removed else _("on this board")
    if code.startswith(SOLO_PREFIX):
        return _("removed by the teacher from your own board") if removed else _("on your own board")
    try:
        name = md_text(store.class_info(code).name)
    except BoardError:
        if removed:
            return _("removed by the teacher from the board of the class {code}").format(code=code)
        return _("on the board of the class {code}").format(code=code)
    if removed:
        return _("removed by the teacher from the board of {name} ({code})").format(name=name, code=code)
    return _("on the board of {name} ({code})").format(name=name, code=code)


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
CHART_CAPTION = N_(
    "Each dot is a run: shared weights are blue circles, unshared weights vermilion squares. Runs with the "
    "same parameters and the same test pair accuracy (to 0.01 points) are one dot with their count "
    "beside it (×3: three runs); hover a dot to see every nickname on it."
)  # shown through _()
# Where a run came from, as stored (``RunFacts.source``), and as the table says it.
SOURCES = {"Train page": N_("Train page"), "race": N_("race")}


def source_words(source: str) -> str:
    return _(SOURCES[source]) if source in SOURCES else source


def spots(entries: list[Entry], shared: bool) -> list[list[Entry]]:
    """The runs on each spot of the plot: the same sharing, parameters and test pair accuracy
    as shown (two decimals), oldest first (the dot they share)."""
    found: dict[tuple[int, float], list[Entry]] = {}
    for entry in entries:
        if entry.shared == shared:
            found.setdefault((entry.parameters, round(100 * entry.test_accuracy, 2)), []).append(entry)
    return list(found.values())


def _hover(runs: list[Entry]) -> str:
    """A spot's hover: every run on it, escaped (a nickname is the students' own text)."""
    lines = [
        f"<b>{html.escape(e.nickname)}</b> · {html.escape(setup_shown(e.setup))} · AUC {e.auc:.4f}"
        for e in runs
    ]
    count = len(runs)
    head = (
        "<b>" + ngettext("{n} run on this dot", "{n} runs on this dot", count).format(n=count) + "</b><br>"
        if count > 1
        else ""
    )
    return head + "<br>".join(lines)


def board_figure(entries: list[Entry]):
    """Test pair accuracy against parameters; shared and unshared differ by colour, marker and
    the word in the legend and hover. Runs on the same spot are one dot with their count."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for shared in (True, False):
        kind = "shared" if shared else "unshared"  # the palette's key
        name = weights_words(shared)
        groups = spots(entries, shared)
        counts = [len(runs) for runs in groups]
        figure.add_trace(
            go.Scatter(
                x=[runs[0].parameters for runs in groups],
                y=[round(100 * runs[0].test_accuracy, 2) for runs in groups],
                mode="markers+text",
                text=[f"×{count}" if count > 1 else "" for count in counts],
                textposition="middle right",
                textfont=dict(size=15, color="#1a1a1a"),
                name=name,
                showlegend=True,  # the legend says what a dot is, even with one kind of run
                marker=dict(
                    size=[14 + 3 * min(count - 1, 4) for count in counts],
                    color=SHARING[kind].colour,
                    symbol=SHARING[kind].symbol,  # not by colour alone
                    line=dict(width=1, color="white"),
                ),
                customdata=[[_hover(runs), name] for runs in groups],
                # Plotly's own placeholders (%{x:,}) stay in the translation
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>"
                + _("%{x:,} parameters")
                + "<br>"
                + _("test pair accuracy %{y:.2f}%")
                + "<extra></extra>",
            )
        )
    figure.update_layout(
        height=420,
        margin=dict(t=30, b=10),
        xaxis_title=_("parameters (log scale)"),
        yaxis_title=_("test pair accuracy (%)"),
        showlegend=True,
        legend=dict(orientation="h", y=1.08),
    )
    figure.update_xaxes(type="log")
    return figure


# The tables' columns are named in the session's language (a column's name is its header): the
# tables and their column settings are built together, at display.
def entry_columns() -> dict:
    """The setup column has a fixed width: a long setup is cut in its cell, not the table. Accuracy
    first after the nickname: on a narrow screen the table scrolls, the numbers stay in view."""
    return {
        _("nickname"): st.column_config.TextColumn(_("nickname")),
        _("test pair accuracy (%)"): st.column_config.NumberColumn(
            _("accuracy (%)"), format="%.2f", help=_("Test pair accuracy at the run's own threshold.")
        ),
        "AUC": st.column_config.NumberColumn("AUC", format="%.4f"),
        _("weights"): st.column_config.TextColumn(_("weights")),
        _("parameters"): st.column_config.NumberColumn(_("parameters"), format="localized"),
        _("setup"): st.column_config.TextColumn(_("setup"), width="medium"),
        _("training (s)"): st.column_config.NumberColumn(_("training (s)"), format="%.1f"),
        _("data set"): st.column_config.TextColumn(_("data set")),
        _("from"): st.column_config.TextColumn(_("from")),
        _("posted"): st.column_config.TextColumn(_("posted")),
    }


def entry_table(entries: list[Entry]) -> list[dict]:
    return [
        {
            _("nickname"): e.nickname,
            _("test pair accuracy (%)"): round(100 * e.test_accuracy, 2),
            "AUC": round(e.auc, 4),
            _("weights"): sharing_word(e.shared),
            _("parameters"): e.parameters,
            _("setup"): setup_shown(e.setup),
            _("training (s)"): round(e.train_seconds, 1),
            _("data set"): e.dataset,  # the Train form's word ("mnist-5k"): the table fits 1400 px
            _("from"): source_words(e.source),
            _("posted"): time.strftime("%H:%M:%S", time.localtime(e.posted_at)),
        }
        for e in entries
    ]


def summary_columns() -> dict:
    return {
        _("setup"): st.column_config.TextColumn(_("setup"), width="medium"),
        _("median test pair accuracy (%)"): st.column_config.NumberColumn(
            _("median (%)"), format="%.2f", help=_("The median test pair accuracy of the setup's runs.")
        ),
        _("best (%)"): st.column_config.NumberColumn(_("best (%)"), format="%.2f"),
    }


def summary_table(entries: list[Entry]) -> list[dict]:
    return [
        {
            _("setup"): setup_shown(s.setup),
            _("weights"): sharing_word(s.shared),
            _("median test pair accuracy (%)"): round(100 * s.median_accuracy, 2),
            _("best (%)"): round(100 * s.best_accuracy, 2),
            _("runs"): s.count,
        }
        for s in summary(entries)
    ]


@dataclass(frozen=True)
class ShownGap:
    """A setup's shared-against-unshared comparison as the board shows it: every number rounded
    the way the table prints it, and the difference and ratio computed from those printed
    values, so the sentence and the table can never disagree."""

    setup: str
    shared_runs: int
    unshared_runs: int
    shared_percent: float  # median test pair accuracy, two decimals
    unshared_percent: float
    points: float  # shared_percent - unshared_percent, two decimals
    parameter_ratio: float  # median unshared / median shared parameters, two decimals

    @classmethod
    def of(cls, gap: SharingGap) -> ShownGap:
        shared, unshared = round(100 * gap.shared_median, 2), round(100 * gap.unshared_median, 2)
        return cls(
            gap.setup,
            gap.shared_runs,
            gap.unshared_runs,
            shared,
            unshared,
            round(shared - unshared, 2),
            round(gap.unshared_parameters / gap.shared_parameters, 2),
        )


def shown_gaps(entries: list[Entry]) -> list[ShownGap]:
    return [ShownGap.of(gap) for gap in sharing_gaps(entries)]


def gap_columns() -> dict:
    return {
        _("setup"): st.column_config.TextColumn(_("setup"), width="medium"),
        _("shared median (%)"): st.column_config.NumberColumn(_("shared median (%)"), format="%.2f"),
        _("unshared median (%)"): st.column_config.NumberColumn(_("unshared median (%)"), format="%.2f"),
        _("sharing gives (points)"): st.column_config.NumberColumn(
            _("sharing gives (points)"), format="%+.2f"
        ),
        _("parameters unshared ÷ shared"): st.column_config.NumberColumn(
            _("parameters unshared ÷ shared"), format="%.2f×"
        ),
        _("runs (shared + unshared)"): st.column_config.TextColumn(_("runs (shared + unshared)")),
    }


def gap_table(gaps: list[ShownGap]) -> list[dict]:
    """Shared against unshared, setup by setup (only setups that have both)."""
    return [
        {
            _("setup"): setup_shown(gap.setup),
            _("shared median (%)"): gap.shared_percent,
            _("unshared median (%)"): gap.unshared_percent,
            _("sharing gives (points)"): gap.points,
            _("parameters unshared ÷ shared"): gap.parameter_ratio,
            _("runs (shared + unshared)"): f"{gap.shared_runs} + {gap.unshared_runs}",
        }
        for gap in gaps
    ]


def signed(points: float) -> str:
    return f"{'+' if points >= 0 else '−'}{abs(points):.2f}"


def summary_sentence(entries: list[Entry]) -> str:
    """What the projector says in words, computed from the entries: shared against unshared
    only within a setup (the same data, budget and architecture), never across setups."""
    runs, setups = len(entries), len({e.setup for e in entries})
    students = len({e.student for e in entries})
    counts = _("{runs} from {students}, {setups}.").format(
        runs=ngettext("{n} run", "{n} runs", runs).format(n=runs),
        students=ngettext("{n} student", "{n} students", students).format(n=students),
        setups=ngettext("{n} setup", "{n} setups", setups).format(n=setups),
    )
    gaps = shown_gaps(entries)
    if not gaps:
        if any(e.shared for e in entries) and not all(e.shared for e in entries):
            return _(
                "{counts} No setup has both shared and unshared runs yet, so the board does not compare them: "
                "only runs of the same setup make a fair comparison."
            ).format(counts=counts)
        return counts
    if len(gaps) == 1:
        (gap,) = gaps
        return _(
            "{counts} One setup has both shared and unshared runs ({setup}): there, the median test pair "
            "accuracy is {shared} shared and {unshared} unshared ({points} points for sharing), and "
            "the unshared network has {ratio:.2f}× the parameters."
        ).format(
            counts=counts,
            setup=md_text(setup_shown(gap.setup)),
            shared=f"{gap.shared_percent:.2f}%",  # the % outside the message: "% s" reads as a %-format
            unshared=f"{gap.unshared_percent:.2f}%",
            points=signed(gap.points),
            ratio=gap.parameter_ratio,
        )
    ahead = sum(gap.points > 0 for gap in gaps)
    return _(
        "{counts} {setups} setups have both shared and unshared runs; sharing is ahead in {ahead} of them "
        "(each setup compared with itself in the table *Shared against unshared*)."
    ).format(counts=counts, setups=len(gaps), ahead=ahead)


def projector_wanted() -> bool:
    """The Projector switch's value before it is drawn this run (it is drawn where the view
    needs it): from the last run, else from the link (?board.projector=true)."""
    if PROJECTOR in st.session_state:
        return bool(st.session_state[PROJECTOR])
    return str(st.query_params.get(PROJECTOR, "")).lower() == "true"


# The teacher's PIN, its waits and the cookie that keeps a browser unlocked: siamese_ui/teacher_auth.py.
