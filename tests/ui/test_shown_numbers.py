"""Numbers a teacher reads on the Evaluate, Embeddings, Weight-sharing and More lessons pages, each
checked against the value it states: counts with thousands separators in every table, whole counts in
the confusion matrix, "undefined" for a 0 / 0 metric, a sentence that restates a metric, and the
epoch replay's axes fitted to the epoch shown."""

from __future__ import annotations

import json
import re

import numpy as np

from tests.helpers import app, metric, trained_app


def column_formats(table) -> dict[str, str | None]:
    """Each column's number format as the browser gets it (st.dataframe's column_config)."""
    config = json.loads(table.proto.columns or "{}")
    return {name: (column.get("type_config") or {}).get("format") for name, column in config.items()}


def assert_counts_have_separators(at) -> int:
    """Every whole-number column of every table on the page that holds a count of 1,000 or more is
    shown with thousands separators (133,504, as the prose writes it); returns how many such columns."""
    checked = 0
    for table in at.dataframe:
        frame, formats = table.value, column_formats(table)
        for name in frame.columns:
            values = frame[name]
            if values.dtype.kind in "iu" and (values.abs() >= 1000).any():
                assert formats.get(name) == "%,d", (name, formats)
                checked += 1
    return checked


def test_the_lab_tables_print_counts_with_thousands_separators():
    at = app("pages/weight_sharing.py")
    assert assert_counts_have_separators(at) >= 1  # the components table's parameters (e.g. 133,504)
    table = next(t for t in at.dataframe if "component" in t.value.columns)
    biggest = int(table.value["total"].max())
    assert biggest >= 1000 and f"{biggest:,}" in " ".join(m.value for m in at.markdown)  # the prose's form


def test_the_lessons_weight_table_prints_counts_with_thousands_separators():
    at = app("pages/lessons.py")
    at.session_state["lessons.tab"] = "Export, import, merge"
    at.run()
    assert assert_counts_have_separators(at) >= 1  # a kernel of 1,000 or more parameters


def test_the_multi_input_ratio_has_the_digits_of_the_sentence_that_explains_it():
    at = app("pages/weight_sharing.py")
    at.slider(key="ws.n_inputs").set_value(3).run()
    why = next(m.value for m in at.markdown if "Why the ratio stays below N" in m.value)
    assert "= **2.91**" in why
    assert metric(at, "Ratio") == "2.91×"  # 21,619,267 / 7,425,475 = 2.9115…, as the sentence says


def test_the_race_says_which_data_set_as_people_call_it():
    from siamese_core.network.data import dataset_title
    from siamese_ui.resources import resolve

    at = app("pages/weight_sharing.py")
    intro = next(m.value for m in at.markdown if "One click trains" in m.value)
    name = resolve("auto")
    assert f"(**{name}**)" not in intro and f"**{dataset_title(name)}**" in intro, intro


def test_evaluate_prints_whole_counts_in_the_confusion_matrix():
    at = app("pages/evaluate.py")
    chart = next(c for c in at.get("plotly_chart") if "eval.cm" in c.proto.id)
    trace = json.loads(chart.proto.spec)["data"][0]
    from tests.helpers import image_values

    counts = (
        image_values(trace["z"]).reshape(2, 2).astype(int)
        if isinstance(trace["z"], dict)
        else np.array(trace["z"])
    )
    pairs = int(
        re.search(r"([\d,]+) balanced test pairs", " ".join(c.value for c in at.caption))[1].replace(",", "")
    )
    assert counts.sum() == pairs
    assert trace.get("texttemplate") == "%{text}"
    assert trace["text"] == [[f"{int(n):,}" for n in row] for row in counts]  # 4,943, never 4.943k
    # the sentence under it says the same counts, each noun agreeing with its own number
    (tn, fp), (fn, tp) = counts
    sentence = (
        f"At the slider's threshold, {tp + fn:,} same pairs: {tp:,} called same, {fn:,} called different. "
        f"{tn + fp:,} different pairs: {tn:,} called different, {fp:,} called same."
    )
    assert any(sentence in c.value for c in at.caption), [c.value for c in at.caption]


def test_precision_says_undefined_when_nothing_is_called_same():
    at = app("pages/evaluate.py")
    slider = at.slider(key="eval.threshold")
    slider.set_value(slider.min).run()  # nothing is below the smallest distance: no pair is called same
    assert metric(at, "Recall (same)") == "0.00%"  # 0 of the same pairs found: a real 0
    assert metric(at, "Precision (same)") == "undefined"
    assert any(
        "No pair is called same at this threshold, so precision (0 / 0) is undefined." in c.value
        for c in at.caption
    ), [c.value for c in at.caption]


def test_the_epoch_replay_fits_its_axes_to_the_epoch_shown():
    """Lesson step 5 asks what the untrained branch already groups: at epoch 0 the points may span a
    small fraction of the last epoch's spread, so the axes follow each epoch's own points (5% margin).
    On main every epoch was drawn on the range of all epochs together."""
    at = trained_app({"train.epochs": "2", "train.embedding_dim": "2"})
    at.switch_page("pages/embeddings.py").run()
    job = at.session_state["model.active"].job
    drawn, captions = {}, {}
    for epoch in (0, 2):
        at.slider(key="emb.epoch").set_value(epoch).run()
        chart = next(c for c in at.get("plotly_chart") if "emb.replay" in c.proto.id)
        drawn[epoch] = json.loads(chart.proto.spec)["layout"]
        captions[epoch] = next(c.value for c in at.caption if c.value.startswith(f"Epoch {epoch}"))
    for epoch, layout in drawn.items():
        points = job.probe_snapshots[epoch][:, :2].astype(float)
        low, high = points.min(axis=0), points.max(axis=0)
        # 5% of the epoch's own spread each side; a tiny ReLU net can die to one point (spread 0):
        # then half a unit each side of it
        pad = np.where(high > low, 0.05 * (high - low), 0.5)
        assert np.allclose(layout["xaxis"]["range"], [low[0] - pad[0], high[0] + pad[0]], rtol=1e-6), epoch
        assert np.allclose(layout["yaxis"]["range"], [low[1] - pad[1], high[1] + pad[1]], rtol=1e-6), epoch
    assert not np.allclose(drawn[0]["xaxis"]["range"], drawn[2]["xaxis"]["range"])  # the two views differ
    for epoch, layout in drawn.items():
        assert "axes fitted to this epoch's points" in json.dumps(layout)  # said on the chart itself
        assert "Each epoch's axes fit its own points" in captions[epoch], captions[epoch]
