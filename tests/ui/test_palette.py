"""Shared and unshared (and every other pair the app draws) stay apart for a colour-blind student:
each pair differs in a second channel (dash, marker symbol, hatching), and their colours stay apart
after simulating deuteranopia and protanopia (Machado, Oliveira and Fernandes 2009, severity 1).

The charts are the real ones: the race's live SVG and the class board's Plotly figure."""

from __future__ import annotations

import re

import numpy as np
import pytest

from siamese_core.lessons.race import CurvePoint
from siamese_core.serving.board import Entry
from siamese_ui import palette
from siamese_ui.board import board_figure
from siamese_ui.race_view import race_charts

# Machado et al. 2009, Table 1, severity 1.0: applied to linear RGB.
MACHADO = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
}
MIN_DELTA_E = 20.0  # CIE76 distance in Lab: 2.3 is "just noticeable"; 20 is clearly another colour


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(linear_rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_apart(a: str, b: str, vision: str | None) -> float:
    """CIE76 ΔE between two colours as someone with ``vision`` (None: typical) sees them."""
    la, lb = _linear(a), _linear(b)
    if vision is not None:
        la, lb = MACHADO[vision] @ la, MACHADO[vision] @ lb
    return float(np.linalg.norm(_lab(la) - _lab(lb)))


def test_the_simulation_merges_the_old_green_and_red():
    """The app's earlier shared/unshared colours: apart for typical vision, nearly one olive for a
    deuteranope. (If this failed, the simulation could not catch the problem it is here for.)"""
    assert seen_apart("#2e7d32", "#c62828", None) > 60
    assert seen_apart("#2e7d32", "#c62828", "deuteranopia") < MIN_DELTA_E


PAIRS = [
    ("shared/unshared", palette.SHARED, palette.UNSHARED),
    ("same/different", palette.SAME, palette.DIFFERENT),
    ("training/validation", palette.TRAINING, palette.VALIDATION),
]


@pytest.mark.parametrize(("what", "first", "second"), PAIRS, ids=[p[0] for p in PAIRS])
@pytest.mark.parametrize("vision", [None, "deuteranopia", "protanopia"])
def test_each_pair_is_apart_in_colour_and_in_a_second_channel(what, first, second, vision):
    assert seen_apart(first.colour, second.colour, vision) >= MIN_DELTA_E, what
    assert first.dash != second.dash and first.symbol != second.symbol, what


def _svg_lines(svg: str) -> list[tuple[str, str]]:
    """(stroke colour, dasharray) of every data line in an svg_chart, in drawing order."""
    return [
        (m.group(1), m.group(2) or "")
        for m in re.finditer(r'<polyline [^>]*stroke="([^"]+)"[^>]*?(?:stroke-dasharray="([^"]+)")?/>', svg)
    ]


@pytest.mark.parametrize("vision", [None, "deuteranopia", "protanopia"])
def test_the_race_chart_tells_its_two_lines_apart(vision):
    curve = [CurvePoint(1, 0.30, 0.60), CurvePoint(2, 0.25, 0.70), CurvePoint(3, 0.20, 0.80)]
    other = [CurvePoint(p.step, 1.1 * p.loss, 0.9 * p.pair_accuracy) for p in curve]
    for svg in race_charts({"shared": curve, "unshared": other}):
        (shared_colour, shared_dash), (unshared_colour, unshared_dash) = _svg_lines(svg)
        assert shared_dash != unshared_dash  # one solid, one dashed
        assert seen_apart(shared_colour, unshared_colour, vision) >= MIN_DELTA_E
        # each line is named where it ends, as well as in the legend
        assert re.search(r'text-anchor="end"[^>]*>shared</text>', svg)
        assert re.search(r'text-anchor="end"[^>]*>unshared</text>', svg)


def _entry(k: int, shared: bool) -> Entry:
    return Entry(
        id=k,
        class_code="ABCDEF",
        student=f"s{k}",
        nickname=f"n{k}",
        setup="classroom",
        shared=shared,
        parameters=66_000 * (1 if shared else 2),
        test_accuracy=0.9 + 0.01 * k,
        auc=0.95,
        train_seconds=10.0,
        dataset="MNIST 5k subset",
        source="Train page",
        posted_at=0.0,
    )


@pytest.mark.parametrize("vision", [None, "deuteranopia", "protanopia"])
def test_the_board_tells_shared_and_unshared_dots_apart(vision):
    figure = board_figure([_entry(1, True), _entry(2, False)])
    shared, unshared = figure.data
    assert shared.name == "shared weights" and unshared.name == "unshared weights"
    assert shared.marker.symbol != unshared.marker.symbol
    assert seen_apart(shared.marker.color, unshared.marker.color, vision) >= MIN_DELTA_E
    # the hover names the kind of run, not only the dot's colour
    assert "shared weights" in shared.customdata[0][1] and "unshared weights" in unshared.customdata[0][1]
