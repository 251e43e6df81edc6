"""Evaluate: distances of same and different pairs, the threshold trade-off, ROC, retrieval."""

from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from siamese_core.network.evaluation import (
    accuracy_at,
    best_threshold,
    confusion,
    precision_recall,
    roc_curve,
)
from siamese_ui.charts import chart
from siamese_ui.formatting import percent
from siamese_ui.palette import DIFFERENT, GREY, ORANGE, SAME
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.session import active_model, model_banner, model_cache, model_dataset

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

THRESHOLD = "eval.threshold"
MODEL_COLOUR = ORANGE  # the model's own threshold, beside the slider's black line


def test_report(active, data):
    """The test-pair report of this model, computed once per model."""
    cache = model_cache(active)
    if "report" in cache:
        return cache["report"]
    from siamese_core.network.evaluation import evaluate

    with st.spinner("Evaluating on the test pairs…"):
        return cache.get_or_compute("report", lambda: evaluate(active.model, data, active.threshold))


def threshold_ui(report, active) -> float:
    """The threshold slider and what it gives; returns the slider's threshold."""
    scores, same = report.scores, report.same
    low, high = float(scores.min()), float(scores.max())
    threshold = st.slider(
        "Threshold",
        low,
        high,
        float(np.clip(active.threshold, low, high)),
        step=(high - low) / 500 or 0.001,
        format="%.3f",
        key=THRESHOLD,
        help="Pairs closer than this are called 'same digit'.",
    )
    best_t, best_accuracy = best_threshold(scores, same)
    precision, recall = precision_recall(scores, same, threshold)
    figures = st.columns(5)
    figures[0].metric("Accuracy", f"{100 * accuracy_at(scores, same, threshold):.2f}%")
    figures[1].metric("Precision (same)", percent(precision), help="Of the pairs called same, how many are.")
    figures[2].metric("Recall (same)", percent(recall), help="Of the same pairs, how many are called same.")
    calibrated = active.config is None or active.config.calibrate_threshold
    figures[3].metric(
        "Model's threshold",
        f"{active.threshold:.3f}",
        help="calibrated on validation pairs when the model was trained"
        if calibrated
        else "fixed at 0.5, as in the Keras example",
    )
    figures[4].metric(
        "Best on test",
        f"{best_t:.3f}",
        help=f"The threshold that would score best on these test pairs ({100 * best_accuracy:.2f}% "
        "accuracy): an upper bound, since it peeks at the test set.",
    )
    if precision is None:
        st.caption("No pair is called same at this threshold, so precision (0 / 0) is undefined.")
    if recall is None:
        st.caption("There is no same pair among these test pairs, so recall (0 / 0) is undefined.")
    return threshold


def histograms(report, active, threshold: float) -> None:
    scores, same = report.scores, report.same == 1
    low, high = float(scores.min()), float(scores.max())
    left, right = st.columns([3, 2])
    with left:
        figure = go.Figure()
        bins = dict(start=low, end=high, size=(high - low) / 60 or 0.01)
        figure.add_histogram(
            x=scores[same],
            name="same digit",
            xbins=bins,
            opacity=0.65,
            marker=dict(color=SAME.colour, pattern_shape=SAME.pattern),
        )
        figure.add_histogram(  # hatched as well as coloured: not told apart by colour alone
            x=scores[~same], name="different digits", xbins=bins, opacity=0.65,
            marker=dict(color=DIFFERENT.colour, pattern_shape=DIFFERENT.pattern),
        )  # fmt: skip
        # two vertical lines, labelled in the legend (labels on the lines overlapped when close)
        lines = [
            (threshold, "slider threshold", dict(color="black", width=3)),
            (active.threshold, "model's threshold", dict(color=MODEL_COLOUR, dash="dash", width=2)),
        ]
        if active.config is not None and active.config.head == "distance":  # the loss's margin m
            lines.append((active.config.margin, "margin m", dict(color=GREY, dash="dot", width=2)))
        for x, name, line in lines:
            figure.add_scatter(
                x=[x, x], y=[0, 1], yaxis="y2", mode="lines", line=line, name=f"{name} {x:.3f}"
            )
        figure.update_layout(
            barmode="overlay",
            height=380,
            margin=dict(t=30, b=10),
            xaxis_title="distance",
            yaxis_title="pairs",
            title="distances of test pairs",
            legend=dict(orientation="h", y=-0.25),
            yaxis2=dict(overlaying="y", range=[0, 1], visible=False),
        )
        chart(
            figure,
            f"Median distance of a same pair {np.median(scores[same]):.3f}, of a different pair "
            f"{np.median(scores[~same]):.3f}; at the slider's threshold {threshold:.3f}, "
            f"{np.mean(scores[same] < threshold):.1%} of same pairs and {np.mean(scores[~same] >= threshold):.1%} "
            "of different pairs are on their right side.",
            key="eval.hist",
        )
        if active.config is not None and active.config.head == "distance":
            st.caption(
                f"The dotted line is the training loss's margin m = {active.config.margin:g}: different pairs "
                "closer than m were pushed apart during training, same pairs pulled towards 0 "
                "(the formula is on the Train page)."
            )
    with right:
        matrix = confusion(scores, report.same, threshold)
        figure = px.imshow(
            matrix,
            color_continuous_scale="Blues",
            x=["predicted different", "predicted same"],
            y=["truly different", "truly same"],
        )
        figure.update_layout(
            height=380,
            margin=dict(t=30, b=10),
            title="confusion matrix at the slider",
            coloraxis_showscale=False,
        )
        # whole counts as the prose writes them (Plotly's own text_auto writes 9886 as "9.886k")
        figure.update_traces(text=[[f"{count:,}" for count in row] for row in matrix], texttemplate="%{text}")
        chart(
            figure,
            f"At the slider's threshold: {matrix[1, 1]:,} same pairs called same, {matrix[1, 0]:,} called "
            f"different; {matrix[0, 0]:,} different pairs called different, {matrix[0, 1]:,} called same.",
            key="eval.cm",
        )


def roc_and_retrieval(report, threshold: float) -> None:
    scores, same = report.scores, report.same
    left, right = st.columns([3, 2])
    with left:
        fpr, tpr, _, auc = roc_curve(scores, same)
        figure = go.Figure()
        figure.add_scatter(x=fpr, y=tpr, mode="lines", name=f"ROC (AUC {auc:.4f})")
        figure.add_scatter(
            x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="chance"
        )
        matrix = confusion(scores, same, threshold)
        figure.add_scatter(
            x=[matrix[0, 1] / max(matrix[0].sum(), 1)],
            y=[matrix[1, 1] / max(matrix[1].sum(), 1)],
            mode="markers",
            marker=dict(size=12, color="black"),
            name="slider threshold",
        )
        figure.update_layout(
            height=360,
            margin=dict(t=30, b=10),
            title=f"ROC curve · AUC {auc:.4f}",
            xaxis_title="false positive rate",
            yaxis_title="true positive rate",
            legend=dict(orientation="h", y=-0.25),  # under the axis title, not on it
        )
        chart(
            figure,
            f"AUC {auc:.4f} (chance: 0.5). At the slider's threshold the true positive rate is "
            f"{matrix[1, 1] / max(matrix[1].sum(), 1):.1%} and the false positive rate "
            f"{matrix[0, 1] / max(matrix[0].sum(), 1):.1%}.",
            key="eval.roc",
        )
    with right:
        st.subheader("Retrieval and one-shot")
        st.metric(
            "precision@1",
            f"{report.precision_at_1:.3f}",
            help="how often a test digit's nearest other test digit has its class",
        )
        st.metric(
            "MAP@R",
            "undefined" if report.map_at_r is None else f"{report.map_at_r:.3f}",
            help="mean average precision over the R nearest, R = the class size",
        )
        if report.one_shot is not None:
            way = report.one_shot_way
            st.metric(
                f"{way}-way one-shot on held-out digits",
                f"{100 * report.one_shot:.1f}%",
                help=f"one example of each of {way} never-seen classes; chance is {100 / way:.0f}%",
            )
        else:
            st.caption(
                "Train with held-out digits (preset held-out-8-9) to measure one-shot accuracy on classes "
                "the network never saw."
            )


def hardest_mistakes(report, data, threshold: float) -> None:
    st.subheader("The hardest mistakes at the slider")
    scores, same, names = report.scores, report.same == 1, data.class_names
    false_same = np.flatnonzero(~same & (scores < threshold))
    false_different = np.flatnonzero(same & (scores >= threshold))
    left, right = st.columns(2)
    for column, title, idx, order in (
        (left, "Closest different pairs (called 'same')", false_same, np.argsort(scores[false_same])),
        (
            right,
            "Farthest same pairs (called 'different')",
            false_different,
            np.argsort(-scores[false_different]),
        ),
    ):
        column.markdown(f"**{title}** · {len(idx):,} pairs")
        for p in idx[order][:5]:
            a, b = report.i[p], report.j[p]
            row = column.columns([1, 1, 2])
            for column, k in zip(row[:2], (a, b), strict=True):
                column.image(
                    digit_image(data.test.x[k], 2),
                    alt=f"Test digit #{k}, a {names[data.test.y[k]]}; the pair's distance is {scores[p]:.3f}.",
                )
            row[2].caption(f"{names[data.test.y[a]]} vs {names[data.test.y[b]]} · distance {scores[p]:.3f}")
        if not len(idx):
            column.caption("None at this threshold.")


st.title("Evaluate")
st.markdown(
    "A Siamese network outputs a **distance**; a **threshold** turns it into a verdict. Here are the "
    "distances of same-digit and different-digit **test pairs**, what each threshold would give, and how "
    "well the embedding ranks digits of the same class first."
)
model = active_model()
model_banner(model)
digits = model_dataset(model)
test = test_report(model, digits)
st.caption(
    f"{len(test.scores):,} balanced test pairs from the {digits.title} test split"
    + (f"; held-out digits {list(digits.held_out_classes)} included." if digits.held_out_classes else ".")
)
slider_threshold = threshold_ui(test, model)
histograms(test, model, slider_threshold)
roc_and_retrieval(test, slider_threshold)
hardest_mistakes(test, digits, slider_threshold)
