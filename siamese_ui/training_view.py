"""What the Train page shows of a job, as plain values (no streamlit): the status line, the
epoch table's rows, the charts' series. Tests read them without a browser."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from siamese_core.jobs import JobSnapshot, Status
from siamese_core.results import BatchRow, EpochRow
from siamese_core.serving.protocol import LEFT_QUEUE

from .palette import TRAINING, VALIDATION
from .svg_chart import Series

LONG_RUN_SECONDS = 600  # a run longer than this gets a word before it eats the lesson


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


EPOCH_HEADER = (
    "epoch",
    "loss",
    "pair accuracy (0.5)",
    "val loss",
    "val pair accuracy",
    "threshold",
    "training time",
)


def epoch_rows(epochs: Iterable[EpochRow]) -> list[tuple[str, ...]]:
    """The epoch table's rows, formatted the same way live and once the run is paused or over."""
    return [
        (
            str(e.epoch) + ("" if e.complete else " (partial)"),
            number(e.loss),
            percent(e.pair_accuracy),
            number(e.val_loss),
            percent(e.val_pair_accuracy),
            f"{e.threshold:.3f}",
            f"{e.seconds:.1f} s",
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
    at = "the calibrated threshold" if snapshot.calibrated else "0.5"
    # training in blue and solid, validation in vermilion, dashed, with square markers
    train = dict(color=TRAINING.colour, dash=TRAINING.dasharray, marker=TRAINING.symbol)
    val = dict(color=VALIDATION.colour, dash=VALIDATION.dasharray, marker=VALIDATION.symbol)
    loss = [
        Series("training loss (running mean of the epoch)", x, [r.loss for r in batches], **train),
        Series("training loss, epoch", ex, [e.loss for e in epochs], lines=False, markers=True, **train),
        Series("validation loss, epoch", ex, [e.val_loss for e in epochs], markers=True, **val),
    ]
    accuracy = [
        Series("training pair accuracy at 0.5 (running)", x, [r.pair_accuracy for r in batches], **train),
        Series(
            f"validation pair accuracy at {at}, epoch",
            ex,
            [e.val_pair_accuracy for e in epochs],
            markers=True,
            **val,
        ),
    ]
    return loss, accuracy


ACCURACY_NOTE = (
    "Training accuracy is Keras's running metric at a fixed threshold of 0.5 during the epoch; "
    "validation accuracy is measured after each epoch at {at}. Two thresholds, so the two "
    "curves can differ for that reason alone."
)


def trained_nothing(snapshot) -> bool:
    """Over before its first batch: it left the line, or stopped while it was starting."""
    return snapshot.status.ended and snapshot.step == 0 and not snapshot.batches


LEFT_LINE = "You left the line before your training started: nothing was trained. Press Start to queue again."


def stopped_note(snapshot, left_line: bool) -> str:
    """What a stopped run leaves behind, in words that match what it did (``left_line``: it
    never got a worker)."""
    if left_line and trained_nothing(snapshot):
        if snapshot.reason in ("", LEFT_QUEUE):  # the sentence says it already
            return LEFT_LINE
        return (
            f"Your training was taken out of the line before it started ({snapshot.reason}): nothing was "
            "trained. Press Start to queue again."
        )
    if trained_nothing(snapshot):
        return (
            f"Stopped before the first batch ({snapshot.reason}): nothing was trained, so there is no model "
            "and no curve. Press Start to try again."
        )
    return f"Stopped ({snapshot.reason}). The model and the curves so far are kept."


def status_line(snapshot) -> str:
    label = {
        Status.QUEUED: "Waiting in line",
        Status.STARTING: "Starting: loading data and building the graph…",
        Status.RUNNING: "Training",
        Status.PAUSED: "Paused",
        Status.FINISHED: "Finished",
        Status.STOPPED: "Stopped",
        Status.FAILED: "Failed",
    }.get(snapshot.status, str(snapshot.status))
    if snapshot.status == Status.QUEUED:
        return label
    if trained_nothing(snapshot):  # no "batch 0/?": there was no batch
        return f"{label} · nothing trained"
    eta = ""
    if snapshot.eta_seconds is not None and snapshot.status == Status.RUNNING:
        eta = (
            f" · ETA {snapshot.eta_seconds / 60:.0f} min"
            if snapshot.eta_seconds >= 120
            else f" · ETA {snapshot.eta_seconds:.0f} s"
        )
    return (
        f"{label} · epoch {snapshot.current_epoch}/{snapshot.epochs} · "
        f"batch {snapshot.step:,} of {f'{snapshot.total_steps:,}' if snapshot.total_steps else '?'} in all · "
        f"{snapshot.pairs_per_second:,.0f} pairs/s{eta}"
    )


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def queue_line(position: int, seconds: float) -> str:
    """ "3rd in line, about 40 s": where a waiting training stands and when it should start."""
    if seconds >= 90:
        wait = f"about {seconds / 60:.0f} min"
    elif seconds >= 1:
        wait = f"about {max(5, 5 * round(seconds / 5)):.0f} s"
    else:
        wait = "any moment now"
    return (
        f"**{ordinal(position)} in line**, {wait}. It starts by itself when a worker is free; you may "
        "visit the other pages meanwhile. Stop gives your place up, and so does closing every tab of this app."
    )


def long_run_note(snapshot: JobSnapshot) -> str:
    """A sentence when the run will take long (epochs = 500 is an hour and more), else ""."""
    if (
        snapshot.status != Status.RUNNING
        or snapshot.eta_seconds is None
        or snapshot.eta_seconds <= LONG_RUN_SECONDS
    ):
        return ""
    return (
        f"At this speed the run takes about {snapshot.eta_seconds / 60:.0f} more minutes. Fewer epochs or "
        "pairs per epoch make it shorter; Stop keeps what it has learnt so far."
    )
