"""Every chart has a text equivalent: a sentence computed from its data and its data as a table
(siamese_ui/charts.py). Numbers here are worked out by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from siamese_ui.charts import clusters_in_words, figure_table
from siamese_ui.svg_chart import Series, series_summary, svg_chart

ROOT = Path(__file__).resolve().parents[2]


def test_no_page_draws_a_plotly_chart_without_its_text():
    """Only siamese_ui/charts.py calls plotly_chart: every other chart goes through chart(), which
    writes the sentence and the table."""
    calls = []
    for path in sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("siamese_ui/*.py"), ROOT / "app.py"]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "plotly_chart":
                calls.append(str(path.relative_to(ROOT)))
    assert calls == ["siamese_ui/charts.py"]


def test_a_histogram_becomes_its_bins():
    figure = go.Figure()
    figure.add_histogram(x=[0.1, 0.2, 0.25, 0.9], name="same", xbins=dict(start=0.0, end=1.0, size=0.5))
    figure.add_histogram(x=[0.6, 0.7], name="different", xbins=dict(start=0.0, end=1.0, size=0.5))
    table = figure_table(figure)
    assert table.to_dict("records") == [
        {"series": "same", "from": 0.0, "to": 0.5, "count": 3},
        {"series": "same", "from": 0.5, "to": 1.0, "count": 1},
        {"series": "different", "from": 0.5, "to": 1.0, "count": 2},  # the empty bin is left out
    ]


def test_lines_and_a_heatmap_become_rows():
    figure = go.Figure()
    figure.add_scatter(x=[1, 2], y=[0.5, 0.25], name="loss")
    assert figure_table(figure).to_dict("records") == [
        {"series": "loss", "x": 1, "y": 0.5},
        {"series": "loss", "x": 2, "y": 0.25},
    ]
    heat = go.Figure(go.Heatmap(z=[[5, 1], [2, 7]], x=["pred diff", "pred same"], y=["diff", "same"]))
    assert figure_table(heat).to_dict("records") == [
        {"row": "diff", "column": "pred diff", "value": 5},
        {"row": "diff", "column": "pred same", "value": 1},
        {"row": "same", "column": "pred diff", "value": 2},
        {"row": "same", "column": "pred same", "value": 7},
    ]
    gauge = go.Figure(go.Indicator(mode="number", value=0.4))
    assert isinstance(figure_table(gauge), pd.DataFrame) and figure_table(gauge).empty


def test_a_line_chart_in_one_sentence():
    series = [
        Series("training loss", [10, 20, 30], [0.21, float("nan"), 0.04], "#000"),
        Series("validation loss", [30], [0.05], "#000"),
        Series("not yet", [10], [None], "#000"),
    ]
    sentence = series_summary(series, "batch")
    assert (
        sentence
        == "training loss fell from 0.21 to 0.04 (batch 10 to 30); validation loss: 0.05 at batch 30."
    )
    assert series_summary([], "batch") == "No data yet."
    # the live SVG carries the same sentence for a screen reader
    assert f'aria-label="loss: {sentence}"' in svg_chart(series, "loss", "batch")


def test_the_embedding_clusters_in_words():
    frame = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 10.0, 10.0],
            "y": [0.0, 0.0, 0.0, 0.0, 4.0],
            "digit": ["1", "1", "1", "7", "7"],
        }
    )
    table, sentence = clusters_in_words(frame)
    # digit 1: middle (1, 0), distances 1, 0, 1 -> median 1; digit 7: middle (10, 2), distances 2, 2 -> 2
    assert table.to_dict("records") == [
        {"digit": "1", "points": 3, "middle x": 1.0, "middle y": 0.0, "spread": 1.0},
        {"digit": "7", "points": 2, "middle x": 10.0, "middle y": 2.0, "spread": 2.0},
    ]
    assert sentence == (
        "5 points in 2 digit clusters, each labelled with its digit. Tightest: 1 (median distance to its "
        "middle 1); loosest: 7 (2)."
    )
    assert np.isfinite(table["spread"]).all()


def test_a_map_with_no_extent_or_equal_clusters_says_so_and_a_tiny_map_keeps_its_figures():
    # a collapsed model: every point at one spot (was "Tightest: 0 (0); loosest: 0 (0)")
    spot = pd.DataFrame({"x": [0.5] * 4, "y": [-1.0] * 4, "digit": ["1", "1", "7", "7"]})
    table, sentence = clusters_in_words(spot)
    assert sentence == (
        "4 points, all at one spot: the model gives every digit the same embedding, so the map cannot "
        "tell the digits apart."
    )
    assert table["spread"].tolist() == [0.0, 0.0]
    # two clusters alike: 1 around (0, 0) and 7 around (5, 0), each point 1 from its middle
    alike = pd.DataFrame(
        {"x": [-1.0, 1.0, 4.0, 6.0], "y": [0.0, 0.0, 0.0, 0.0], "digit": ["1", "1", "7", "7"]}
    )
    assert clusters_in_words(alike)[1] == (
        "4 points in 2 digit clusters, each labelled with its digit, all equally spread: median "
        "distance to their middle 1."
    )
    # a map a hundredth wide (an untrained network's): spreads 0.0004 and 0.0008 are not rounded to 0
    tiny = pd.DataFrame(
        {
            "x": [0.0, 0.0004, 0.0008, 0.01, 0.01],
            "y": [0.0, 0.0, 0.0, 0.0, 0.0016],
            "digit": ["1", "1", "1", "7", "7"],
        }
    )
    table, sentence = clusters_in_words(tiny)
    assert table["spread"].tolist() == [0.0004, 0.0008]
    assert sentence.endswith("Tightest: 1 (median distance to its middle 0.0004); loosest: 7 (0.0008).")


@pytest.mark.parametrize("matrix", [[[4900, 100], [80, 4920]], [[0, 0], [0, 1]]])
def test_the_heatmap_is_the_figure_plotly_express_made(matrix):
    """Evaluate's confusion matrix, built from graph objects: the same figure as ``px.imshow`` (the
    code the page ran before), to the JSON the browser receives."""
    import json

    import plotly.express as px
    import plotly.io as pio

    from siamese_ui.charts import heatmap_figure

    args = dict(
        x=["predicted different", "predicted same"],
        y=["truly different", "truly same"],
        labels=dict(x="prediction", y="truth", color="pairs"),
    )
    theirs = px.imshow(np.array(matrix), color_continuous_scale="Blues", **args)
    mine = heatmap_figure(np.array(matrix), **args)
    assert json.loads(pio.to_json(mine)) == json.loads(pio.to_json(theirs))
