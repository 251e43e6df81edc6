"""The class board's statistics, computed from its entries (``Board.entries``): how a setup is
named, the median and best per setup, and shared against unshared within one setup. Pure
functions of the entries, apart from the storage in :mod:`siamese_core.serving.board`."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from siamese_core.i18n import DEFAULT, _, current_language

if TYPE_CHECKING:
    from siamese_core.serving.board import Entry


@dataclass(frozen=True)
class SetupSummary:
    setup: str
    shared: bool
    count: int
    median_accuracy: float
    best_accuracy: float


# Fields that do not change what is learned (or are shown apart: ``shared``), left out of a setup.
_NOT_SETUP = ("shared", "seed", "steps_per_execution", "jit_compile", "dataset")


def setup_words(config) -> str:
    """A configuration in a few words for the board: its nearest preset, plus what differs
    (``classroom``, ``classroom · margin 0.25``). Sharing is left out: the board colours it."""
    from siamese_core.config import PRESETS

    def differences(base) -> list[str]:
        words = []
        for field in dataclasses.fields(config):
            value = getattr(config, field.name)
            if field.name not in _NOT_SETUP and value != getattr(base, field.name):
                shown = (
                    ",".join(map(str, value))
                    if isinstance(value, tuple)
                    else f"{value:g}"
                    if isinstance(value, float)
                    else str(value)
                )
                words.append(f"{field.name.replace('_', ' ')} {shown}")
        return words

    name, words = min(
        ((name, differences(base)) for name, base in PRESETS.items()), key=lambda item: len(item[1])
    )
    return " · ".join([name, *words])


def setup_shown(setup: str) -> str:
    """A setup (:func:`setup_words`, stored in English: it is what the board groups by) as the
    session's language shows it: each field by its Train form label (``config.LABELS``), a switch
    as on or off. English shows it as stored (``classroom · margin 0.25``)."""
    if current_language() == DEFAULT:
        return setup
    from siamese_core.config import LABELS

    fields = sorted(LABELS, key=len, reverse=True)  # the longest name first: "pairs per epoch", not "pairs"
    preset, *parts = setup.split(" · ")
    shown = [preset]
    for part in parts:
        field = next((f for f in fields if part.startswith(f.replace("_", " ") + " ")), None)
        if field is None:  # not a field (a setup written by another version): as stored
            shown.append(part)
            continue
        value = part[len(field) + 1 :]
        value = {"True": _("on"), "False": _("off")}.get(value, value)
        shown.append(_("{field} {value}").format(field=_(LABELS[field]), value=value))
    return " · ".join(shown)


def summary(entries: list[Entry]) -> list[SetupSummary]:
    """Per setup and sharing: how many runs, their median and best test pair accuracy."""
    groups: dict[tuple[str, bool], list[float]] = {}
    for entry in entries:
        groups.setdefault((entry.setup, entry.shared), []).append(entry.test_accuracy)
    return [
        SetupSummary(setup, shared, len(values), statistics.median(values), max(values))
        for (setup, shared), values in sorted(groups.items(), key=lambda item: (item[0][0], not item[0][1]))
    ]


@dataclass(frozen=True)
class SharingGap:
    """Shared against unshared within one setup: the same data, budget and architecture, so
    the difference is the sharing's. Across setups the board never compares: a tiny CNN's
    median against an MLP's says nothing about sharing."""

    setup: str
    shared_runs: int
    unshared_runs: int
    shared_median: float  # median test pair accuracy of the setup's shared runs
    unshared_median: float
    shared_parameters: float  # median parameter count (the same for every run of a setup)
    unshared_parameters: float


def sharing_gaps(entries: list[Entry]) -> list[SharingGap]:
    """One :class:`SharingGap` per setup that has both shared and unshared runs, by setup name."""
    groups: dict[str, dict[bool, list[Entry]]] = {}
    for entry in entries:
        groups.setdefault(entry.setup, {True: [], False: []})[entry.shared].append(entry)
    return [
        SharingGap(
            setup,
            len(sides[True]),
            len(sides[False]),
            statistics.median(e.test_accuracy for e in sides[True]),
            statistics.median(e.test_accuracy for e in sides[False]),
            statistics.median(e.parameters for e in sides[True]),
            statistics.median(e.parameters for e in sides[False]),
        )
        for setup, sides in sorted(groups.items())
        if sides[True] and sides[False]
    ]
