"""The Embeddings page's map and its hover pictures, against the Plotly Express figure and the
one-digit-at-a-time pictures they replace (the references are the code the page ran before)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from siamese_core.network.data import load_dataset
from siamese_ui.pictures import ascii_digits
from siamese_ui.scatter import OPACITY, cluster_labels, ring_chosen_point, scatter_figure, seen_in_training


def reference_ascii_digit(x: np.ndarray) -> str:
    small = x.reshape(14, 2, 14, 2).mean(axis=(1, 3))
    ramp = np.array(list(" ░▒▓█"))
    idx = np.clip((small / 256 * len(ramp)).astype(int), 0, len(ramp) - 1)
    rows = ["".join(ramp[r]) for r in idx]
    while rows and not rows[0].strip():
        rows.pop(0)
    while rows and not rows[-1].strip():
        rows.pop()
    return "<br>".join(r.replace(" ", "\u2007") for r in rows)


def reference_figure(frame: pd.DataFrame, names, held_out: bool):
    return px.scatter(
        frame,
        x="x",
        y="y",
        color="digit",
        symbol="seen in training" if held_out else None,
        symbol_map={seen_in_training(False): "circle", seen_in_training(True): "x"},
        category_orders={"digit": list(names)},
        custom_data=["picture", "digit", "position"],
        color_discrete_sequence=px.colors.qualitative.T10,
        opacity=OPACITY,
    )


def test_the_pictures_are_the_one_digit_at_a_time_pictures():
    data = load_dataset("mnist-5k")
    edge = np.zeros((3, 28, 28), np.uint8)
    edge[1, 27, 27] = 255  # ink in the last row only
    edge[2, 0, :] = 40  # faint ink in the first row only
    digits = np.concatenate([data.test.x, data.train.x[:500], edge])
    assert ascii_digits(digits) == [reference_ascii_digit(x) for x in digits]
    assert ascii_digits(edge)[0] == ""  # blank: no rows at all


@pytest.mark.parametrize("held", [(), (8, 9)])
def test_the_map_has_the_traces_plotly_express_made(held):
    data = load_dataset("mnist-5k")
    rng = np.random.default_rng(3)
    chosen = rng.choice(len(data.test.y), 400, replace=False)
    labels = data.test.y[chosen]
    names = data.class_names
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=400),
            "y": rng.normal(size=400),
            "digit": [names[k] for k in labels],
            "seen in training": [seen_in_training(k in held) for k in labels],
            "picture": ascii_digits(data.test.x[chosen]),
            "position": np.arange(400),
        }
    )
    mine = scatter_figure(frame, names, bool(held)).to_plotly_json()
    theirs = reference_figure(frame, names, bool(held)).to_plotly_json()
    assert [t["name"] for t in mine["data"]] == [t["name"] for t in theirs["data"]]
    assert len(mine["data"]) == 10  # one trace a digit: a held-out digit is held out whole
    for a, b in zip(mine["data"], theirs["data"], strict=True):
        assert a["legendgroup"] == b["legendgroup"] and a["mode"] == b["mode"] == "markers"
        assert np.array_equal(a["x"], b["x"]) and np.array_equal(a["y"], b["y"])
        assert np.array_equal(np.asarray(a["customdata"], object), np.asarray(b["customdata"], object))
        for key in ("color", "symbol", "opacity"):
            assert a["marker"][key] == b["marker"][key], (a["name"], key)
        assert a["hovertemplate"].endswith("<extra></extra>") and "%{customdata[0]}" in a["hovertemplate"]
    if held:
        assert {t["marker"]["symbol"] for t in mine["data"] if t["name"].startswith(("8", "9"))} == {"x"}
    # each digit's name at the median of its points
    notes = {n["text"]: (n["x"], n["y"]) for n in mine["layout"]["annotations"]}
    for name in names:
        group = frame[frame["digit"] == name]
        assert notes[f"<b>{name}</b>"] == (float(group["x"].median()), float(group["y"].median()))
    ring_chosen_point(figure := scatter_figure(frame, names, bool(held)), frame, 17)
    assert (figure.data[-1].x, figure.data[-1].y) == ((frame["x"][17],), (frame["y"][17],))


def reference_cluster_rows(frame: pd.DataFrame) -> list[dict]:
    """The cluster table's rows as the page made them before, with pandas' groupby."""
    rows = []
    for name, group in frame.groupby("digit", observed=True, sort=True):
        middle = group[["x", "y"]].median()
        spread = float(np.median(np.hypot(group["x"] - middle["x"], group["y"] - middle["y"])))
        rows.append(
            {
                "digit": name,
                "points": len(group),
                "middle x": middle["x"],
                "middle y": middle["y"],
                "spread": spread,
            }
        )
    return rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # a model's embeddings are float32
@pytest.mark.parametrize(
    "names", [[str(k) for k in range(10)], ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal"]]
)
def test_the_clusters_in_words_are_those_of_a_groupby(names, dtype):
    """clusters_in_words works digit by digit in NumPy: the same rows, in the same (sorted) order, as
    pandas' groupby over the page's own frame (its picture column and all)."""
    from siamese_ui.charts import CLUSTER_COLUMNS, clusters_in_words, header

    data = load_dataset("mnist-5k")
    rng = np.random.default_rng(5)
    labels = rng.integers(0, len(names), 700)
    frame = pd.DataFrame(
        {
            "x": (rng.normal(size=700) * 3 + labels).astype(dtype),
            "y": rng.normal(size=700).astype(dtype),
            "digit": [names[k] for k in labels],
            "seen in training": seen_in_training(False),
            "picture": ascii_digits(data.test.x[:700]),
            "position": np.arange(700),
        }
    )
    table, _sentence = clusters_in_words(frame)
    expected = pd.DataFrame(reference_cluster_rows(frame)).round(3)
    shown = {m.rpartition("|")[2]: header(m) for m in CLUSTER_COLUMNS}
    assert table.to_dict("records") == expected.rename(columns=shown).to_dict("records")
    assert list(table[shown["digit"]]) == sorted(names)
    labels_now = {n["text"]: (n["x"], n["y"]) for n in cluster_labels(frame)}
    for name, group in frame.groupby("digit", observed=True, sort=False):  # the labels as they were made
        assert labels_now[f"<b>{name}</b>"] == (float(np.median(group["x"])), float(np.median(group["y"])))
