"""What the Train page shows of a job, as plain values (no streamlit): the status line, the
epoch table's rows, the charts' series. Tests read them without a browser. Every sentence is in
the caller's language (built in the page's script run; the job's own reasons through ``job_text``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from siamese_core.i18n import N_, _, ngettext
from siamese_core.jobs import JobSnapshot, Status, job_text
from siamese_core.results import BatchRow, EpochRow, LearnedNothing
from siamese_core.serving.protocol import LEFT_QUEUE

from .formatting import sentences
from .palette import TRAINING, VALIDATION
from .svg_chart import Series

# The live view asks for a redraw this often: 1.27 new pictures a second, measured, leaving room
# for a slower laptop; each redraw is one light HTML block (siamese_ui/live_panel.py).
REFRESH_SECONDS = 0.8
# A place in line changes slowly (a training takes seconds to tens of seconds): a waiting student's
# page asks less often, and the less often the longer the wait, so that a class of 30, most of them
# waiting, does not keep the web server's core busy redrawing places in line (BENCHMARKS.md, "The
# classroom in a container"). (estimated wait at least, seconds between redraws), longest first:
# the pace changes at most twice as the line moves, each change one rerun of the whole page.
QUEUED_PACE = ((120.0, 10.0), (45.0, 6.0), (0.0, 3.0))
GUESSING_AUC = 0.5  # the ROC AUC of scores that know nothing of the pair
LONG_RUN_SECONDS = 600  # a run longer than this gets a word before it eats the lesson


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


EPOCH_HEADER = (  # in English; the page shows epoch_header()
    N_("epoch"),
    N_("loss"),
    N_("pair accuracy (0.5)"),
    N_("val loss"),
    N_("val pair accuracy"),
    N_("threshold"),
    N_("training time"),
)


def epoch_header() -> tuple[str, ...]:
    """The epoch table's columns in the caller's language."""
    return tuple(_(h) for h in EPOCH_HEADER)


def epoch_rows(epochs: Iterable[EpochRow]) -> list[tuple[str, ...]]:
    """The epoch table's rows, formatted the same way live and once the run is paused or over."""
    return [
        (
            str(e.epoch) if e.complete else _("{epoch} (partial)").format(epoch=e.epoch),
            number(e.loss),
            percent(e.pair_accuracy),
            number(e.val_loss),
            percent(e.val_pair_accuracy),
            f"{e.threshold:.3f}",
            _("{seconds:.1f} s").format(seconds=e.seconds),
        )
        for e in epochs
    ]


def _thin(rows: Sequence[BatchRow], limit: int = 600) -> list[BatchRow]:
    step = max(1, len(rows) // limit)
    return list(rows[::step]) + ([rows[-1]] if rows and (len(rows) - 1) % step else [])


def curves(snapshot) -> tuple[list[Series], list[Series]]:
    """The two charts' data: per-batch running figures and per-epoch points."""
    batches, epochs = _thin(snapshot.batches), snapshot.epoch_history
    x = [r.step for r in batches]
    ex = [e.epoch * snapshot.steps_per_epoch if e.complete else snapshot.step for e in epochs]
    validation = (
        _("validation pair accuracy at the calibrated threshold, epoch")
        if snapshot.calibrated
        else _("validation pair accuracy at 0.5, epoch")
    )
    # training in blue and solid, validation in vermilion, dashed, with square markers
    train = dict(color=TRAINING.colour, dash=TRAINING.dasharray, marker=TRAINING.symbol)
    val = dict(color=VALIDATION.colour, dash=VALIDATION.dasharray, marker=VALIDATION.symbol)
    loss = [
        Series(_("training loss (running mean of the epoch)"), x, [r.loss for r in batches], **train),
        Series(_("training loss, epoch"), ex, [e.loss for e in epochs], lines=False, markers=True, **train),
        Series(_("validation loss, epoch"), ex, [e.val_loss for e in epochs], markers=True, **val),
    ]
    accuracy = [
        Series(_("training pair accuracy at 0.5 (running)"), x, [r.pair_accuracy for r in batches], **train),
        Series(
            validation,
            ex,
            [e.val_pair_accuracy for e in epochs],
            markers=True,
            **val,
        ),
    ]
    return loss, accuracy


def accuracy_note(calibrated: bool) -> str:
    """Why the two accuracy curves can differ: two thresholds."""
    if calibrated:
        return _(
            "Training accuracy is Keras's running metric at a fixed threshold of 0.5 during the epoch; "
            "validation accuracy is measured after each epoch at the threshold calibrated on validation "
            "pairs. Two thresholds, so the two curves can differ for that reason alone."
        )
    return _(
        "Training accuracy is Keras's running metric at a fixed threshold of 0.5 during the epoch; "
        "validation accuracy is measured after each epoch at the same fixed 0.5. Two thresholds, so the two "
        "curves can differ for that reason alone."
    )


def trained_nothing(snapshot) -> bool:
    """Over before its first batch: it left the line, or stopped while it was starting."""
    return snapshot.status.ended and snapshot.step == 0 and not snapshot.batches


LEFT_LINE = N_(
    "You left the line before your training started: nothing was trained. Press Start to queue again."
)


def stopped_note(snapshot, left_line: bool) -> str:
    """What a stopped run leaves behind, in words that match what it did (``left_line``: it
    never got a worker)."""
    reason = job_text(snapshot.reason)
    if left_line and trained_nothing(snapshot):
        if snapshot.reason in ("", LEFT_QUEUE):  # the sentence says it already
            return _(LEFT_LINE)
        return _(
            "Your training was taken out of the line before it started ({reason}): nothing was "
            "trained. Press Start to queue again."
        ).format(reason=reason)
    if trained_nothing(snapshot):
        return _(
            "Stopped before the first batch ({reason}): nothing was trained, so there is no model "
            "and no curve. Press Start to try again."
        ).format(reason=reason)
    return _("Stopped ({reason}). The model and the curves so far are kept.").format(reason=reason)


STATUS_WORDS = {  # a run's status as its progress line starts (shown through _())
    Status.QUEUED: N_("Waiting in line"),
    Status.STARTING: N_("Starting: loading data and building the graph…"),
    Status.RUNNING: N_("Training"),
    Status.PAUSED: N_("Paused"),
    Status.FINISHED: N_("Finished"),
    Status.STOPPED: N_("Stopped"),
    Status.FAILED: N_("Failed"),
}


def status_line(snapshot) -> str:
    label = _(STATUS_WORDS[snapshot.status]) if snapshot.status in STATUS_WORDS else str(snapshot.status)
    if snapshot.status == Status.QUEUED:
        return label
    if trained_nothing(snapshot):  # no "batch 0/?": there was no batch
        return _("{status} · nothing trained").format(status=label)
    eta = ""
    if snapshot.eta_seconds is not None and snapshot.status == Status.RUNNING:
        eta = (
            _(" · ETA {minutes:.0f} min").format(minutes=snapshot.eta_seconds / 60)
            if snapshot.eta_seconds >= 120
            else _(" · ETA {seconds:.0f} s").format(seconds=snapshot.eta_seconds)
        )
    figures = dict(
        status=label,
        epoch=snapshot.current_epoch,
        epochs=snapshot.epochs,
        step=snapshot.step,
        total=f"{snapshot.total_steps:,}" if snapshot.total_steps else "?",
    )
    if snapshot.status == Status.PAUSED:  # no speed: nothing moves (the last one was said while it ran)
        return _("{status} · epoch {epoch}/{epochs} · batch {step:,} of {total} in all").format(**figures)
    return _(
        "{status} · epoch {epoch}/{epochs} · batch {step:,} of {total} in all · {rate:,.0f} pairs/s{eta}"
    ).format(**figures, rate=snapshot.pairs_per_second, eta=eta)


# Translators: an English ordinal's forms; a language without them writes each as its ordinal ("第 {n}").
ORDINALS = {"st": N_("{n}st"), "nd": N_("{n}nd"), "rd": N_("{n}rd"), "th": N_("{n}th")}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st (in the caller's language)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return _(ORDINALS[suffix]).format(n=n)


def queue_line(position: int, seconds: float) -> str:
    """ "3rd in line, about 40 s": where a waiting training stands and when it should start."""
    if seconds >= 90:
        wait = _("about {minutes:.0f} min").format(minutes=seconds / 60)
    elif seconds >= 1:
        wait = _("about {seconds:.0f} s").format(seconds=max(5, 5 * round(seconds / 5)))
    else:
        wait = _("any moment now")
    return _(
        "**{place} in line**, {wait}. It starts by itself when a worker is free; you may "
        "visit the other pages meanwhile. Stop gives your place up, and so does closing every tab of this app."
    ).format(place=ordinal(position), wait=wait)


def long_run_note(snapshot: JobSnapshot) -> str:
    """A sentence when the run will take long (epochs = 500 is an hour and more), else ""."""
    if (
        snapshot.status != Status.RUNNING
        or snapshot.eta_seconds is None
        or snapshot.eta_seconds <= LONG_RUN_SECONDS
    ):
        return ""
    return _(
        "At this speed the run takes about {minutes:.0f} more minutes. Fewer epochs or "
        "pairs per epoch make it shorter; Stop keeps what it has learnt so far."
    ).format(minutes=snapshot.eta_seconds / 60)


def learned_nothing_note(failure: LearnedNothing, shared: bool) -> str:
    """Why a finished run scores like guessing, in figures the run itself measured, and what to try."""
    said = [
        _(
            "This network did not learn to tell pairs apart: its ROC AUC is {auc:.3f}, and guessing scores {chance:.3f}."
        ).format(auc=failure.auc, chance=GUESSING_AUC)
    ]
    if failure.collapsed:
        said.append(
            _(
                "Its embeddings collapsed: {digits} test digits lie on average {after:.4f} from their "
                "centre, against {before:.4f} before training ({percent:.1f}%), so every pair is about the "
                "same distance apart."
            ).format(
                digits=failure.probe_digits,
                after=failure.spread_after,
                before=failure.spread_before,
                percent=100 * failure.spread_ratio,
            )
        )
    said.append(
        _(
            "Two branches that share no weights start as two different functions and often end like this. "
            "Try again with shared weights, a smaller learning rate or a larger margin."
        )
        if not shared
        else _("Try again with a smaller learning rate, a larger margin or another seed.")
    )
    return sentences(*said)


def paused_yield_note(waiting: int, seconds_left: float) -> str:
    """What a paused run's owner reads while others wait for its worker (line.PAUSED_YIELD_SECONDS)."""
    return ngettext(
        "{waiting} training is waiting in line for a worker: in {seconds} s this paused run is stopped "
        "and tested, so that it can start. Resume or Step to go on.",
        "{waiting} trainings are waiting in line for a worker: in {seconds} s this paused run is stopped "
        "and tested, so that they can start. Resume or Step to go on.",
        waiting,
    ).format(waiting=waiting, seconds=max(0, math.ceil(seconds_left)))


def server_line(running: int, size: int, queued: int, paused: int) -> str:
    """The Train page's count of everyone's trainings on this server. A paused run keeps its worker
    (until it yields to the line), so it counts as running, and the line says how many are paused: a
    student read "1 of 2 trainings running" with nobody's curve moving."""
    line = _(
        "On this server: **{running} of {size}** trainings running, **{queued}** waiting "
        "in line (everyone's trainings count; the line moves by itself)."
    ).format(running=running, size=size, queued=queued)
    if not paused:
        return line
    return sentences(
        line,
        ngettext(
            "{paused} of the running trainings is paused: it keeps its worker until it goes on or "
            "yields it to the line.",
            "{paused} of the running trainings are paused: each keeps its worker until it goes on or "
            "yields it to the line.",
            paused,
        ).format(paused=paused),
    )


def refresh_seconds(status: Status, place=None) -> float | None:
    """How often the Train page's panel redraws itself (None: only when something is pressed):
    live while a run is on; in line, by the estimated wait of its ``place`` (pool_report.Place)."""
    if not status.active:
        return None
    if status != Status.QUEUED:
        return REFRESH_SECONDS
    wait = place.wait_seconds if place is not None else 0.0
    return next(seconds for longer, seconds in QUEUED_PACE if wait >= longer)
