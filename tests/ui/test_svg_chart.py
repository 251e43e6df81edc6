"""The Train page's live SVG charts: tick choice and geometry worked out by hand."""

import math
import re

from siamese_ui.svg_chart import HEIGHT, WIDTH, Series, nice_ticks, svg_chart


def test_nice_ticks_are_round_steps_inside_the_range():
    # (1 - 0) / 4 = 0.25 -> step 0.25
    assert nice_ticks(0, 1) == [0.0, 0.25, 0.5, 0.75, 1.0]
    # (0.97 - 0.13) / 4 = 0.21 -> step 0.25, first multiple of it above 0.13 is 0.25
    assert nice_ticks(0.13, 0.97) == [0.25, 0.5, 0.75]
    # (63 - 1) / 5 = 12.4 -> step 20
    assert nice_ticks(1, 63, 6) == [20, 40, 60]
    assert nice_ticks(5, 5) == [5]


def test_points_are_placed_on_the_padded_axes():
    """Plot box: x from 62 to 520 - 16 = 504; y from 34 down to 330 - 44 - 27 = 259.
    y range [0, 1] padded by 5% -> [-0.05, 1.05]: y=0 sits at 259 - 0.05/1.1 * 225 = 248.8,
    y=1 at 259 - 1.05/1.1 * 225 = 44.2."""
    assert (WIDTH, HEIGHT) == (520, 330)
    svg = svg_chart([Series("loss", [0, 10], [0, 1], "#123456")], "loss", "batch")
    assert re.findall(r'<polyline points="([^"]+)"', svg) == ["62.0,248.8 504.0,44.2"]
    assert 'aria-label="loss: loss rose from 0 to 1 (batch ' in svg and ">batch</text>" in svg
    assert [t for t in re.findall(r'text-anchor="end" fill="#555">([^<]+)<', svg)] == ["0", "0.5", "1"]


def test_missing_or_infinite_values_break_the_line_instead_of_failing():
    svg = svg_chart(
        [Series("loss", [1, 2, 3, 4, 5], [0.5, 0.4, None, math.inf, 0.2], "#000")], "loss", "batch"
    )
    assert len(re.findall("<polyline", svg)) == 1  # 1-2 joined; 5 stands alone as a dot
    assert len(re.findall("<circle", svg)) == 1


def test_empty_chart_and_escaped_names():
    assert "no data yet" in svg_chart([Series("a", [], [], "#000")], "t", "x")
    svg = svg_chart([Series("<b>&", [0, 1], [0, 1], "#000")], "<title>", "x")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "&lt;title&gt;" in svg


def test_large_batch_numbers_read_as_integers():
    svg = svg_chart([Series("a", [0, 20_000], [0, 1], "#000")], "t", "batch")
    assert ">20,000<" in svg and "e+" not in svg
