"""Evaluate: distances of same and different pairs, the threshold trade-off, ROC, retrieval."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import _, ngettext
from siamese_core.network.evaluation import (
    accuracy_at,
    best_threshold,
    confusion,
    precision_recall,
    roc_curve,
)
from siamese_core.tasks import ModelCall
from siamese_ui.charts import chart, heatmap_figure
from siamese_ui.formatting import percent
from siamese_ui.palette import DIFFERENT, GREY, ORANGE, SAME
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.service import ask
from siamese_ui.session import active_model, model_banner, model_cache, model_dataset, model_dataset_ref

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

THRESHOLD = "eval.threshold"
MODEL_COLOUR = ORANGE  # the model's own threshold, beside the slider's black line


def test_report(active, data):
    """The test-pair report of this model, computed once per model."""
    cache = model_cache(active)
    if "report" in cache:
        return cache["report"]
    ref = model_dataset_ref(active)  # the service loads the same split as ``data``

    def evaluate():
        return ask(ModelCall.EVALUATE, model=active.model, dataset=ref, threshold=active.threshold)

    with st.spinner(_("Evaluating on the test pairs…")):
        return cache.get_or_compute("report", evaluate)


def threshold_ui(report, active) -> float:
    """The threshold slider and what it gives; returns the slider's threshold."""
    scores, same = report.scores, report.same
    low, high = float(scores.min()), float(scores.max())
    threshold = st.slider(
        _("Threshold"),
        low,
        high,
        float(np.clip(active.threshold, low, high)),
        step=(high - low) / 500 or 0.001,
        format="%.3f",
        key=THRESHOLD,
        help=_("Pairs closer than this are called 'same digit'."),
    )
    best_t, best_accuracy = best_threshold(scores, same)
    precision, recall = precision_recall(scores, same, threshold)
    figures = st.columns(5)
    figures[0].metric(_("Accuracy"), f"{100 * accuracy_at(scores, same, threshold):.2f}%")
    figures[1].metric(
        _("Precision (same)"), shown_percent(precision), help=_("Of the pairs called same, how many are.")
    )
    figures[2].metric(
        _("Recall (same)"), shown_percent(recall), help=_("Of the same pairs, how many are called same.")
    )
    calibrated = active.config is None or active.config.calibrate_threshold
    figures[3].metric(
        _("Model's threshold"),
        f"{active.threshold:.3f}",
        help=_("calibrated on validation pairs when the model was trained")
        if calibrated
        else _("fixed at 0.5, as in the Keras example"),
    )
    figures[4].metric(
        _("Best on test"),
        f"{best_t:.3f}",
        help=_(
            "The threshold that would score best on these test pairs ({accuracy:.2f}% accuracy): an upper "
            "bound, since it peeks at the test set."
        ).format(accuracy=100 * best_accuracy),
    )
    if precision is None:
        st.caption(_("No pair is called same at this threshold, so precision (0 / 0) is undefined."))
    if recall is None:
        st.caption(_("There is no same pair among these test pairs, so recall (0 / 0) is undefined."))
    return threshold


def shown_percent(fraction: float | None) -> str:
    """A metric's percentage, or "undefined" in the reader's language when it has no value (0 / 0)."""
    return _("undefined") if fraction is None else percent(fraction)


def histograms(report, active, threshold: float) -> None:
    scores, same = report.scores, report.same == 1
    low, high = float(scores.min()), float(scores.max())
    left, right = st.columns([3, 2])
    with left:
        figure = go.Figure()
        bins = dict(start=low, end=high, size=(high - low) / 60 or 0.01)
        figure.add_histogram(
            x=scores[same],
            name=_("same digit"),
            xbins=bins,
            opacity=0.65,
            marker=dict(color=SAME.colour, pattern_shape=SAME.pattern),
        )
        figure.add_histogram(  # hatched as well as coloured: not told apart by colour alone
            x=scores[~same], name=_("different digits"), xbins=bins, opacity=0.65,
            marker=dict(color=DIFFERENT.colour, pattern_shape=DIFFERENT.pattern),
        )  # fmt: skip
        # two vertical lines, labelled in the legend (labels on the lines overlapped when close)
        lines = [
            (_("slider threshold {value:.3f}"), threshold, dict(color="black", width=3)),
            (
                _("model's threshold {value:.3f}"),
                active.threshold,
                dict(color=MODEL_COLOUR, dash="dash", width=2),
            ),
        ]
        if active.config is not None and active.config.head == "distance":  # the loss's margin m
            lines.append(
                (_("margin m {value:.3f}"), active.config.margin, dict(color=GREY, dash="dot", width=2))
            )
        for name, x, line in lines:
            figure.add_scatter(
                x=[x, x], y=[0, 1], yaxis="y2", mode="lines", line=line, name=name.format(value=x)
            )
        figure.update_layout(
            barmode="overlay",
            height=380,
            margin=dict(t=30, b=10),
            xaxis_title=_("distance"),
            yaxis_title=_("pairs"),
            title=_("distances of test pairs"),
            legend=dict(orientation="h", y=-0.25),
            yaxis2=dict(overlaying="y", range=[0, 1], visible=False),
        )
        chart(
            figure,
            _(
                "Median distance of a same pair {same:.3f}, of a different pair {different:.3f}; at the "
                "slider's threshold {threshold:.3f}, {same_right:.1%} of same pairs and {different_right:.1%} "
                "of different pairs are on their right side."
            ).format(
                same=np.median(scores[same]),
                different=np.median(scores[~same]),
                threshold=threshold,
                same_right=np.mean(scores[same] < threshold),
                different_right=np.mean(scores[~same] >= threshold),
            ),
            key="eval.hist",
        )
        if active.config is not None and active.config.head == "distance":
            st.caption(
                _(
                    "The dotted line is the training loss's margin m = {margin:g}: different pairs closer than "
                    "m were pushed apart during training, same pairs pulled towards 0 (the formula is on the "
                    "Train page)."
                ).format(margin=active.config.margin)
            )
    with right:
        matrix = confusion(scores, report.same, threshold)
        figure = heatmap_figure(
            matrix,
            x=[_("predicted different"), _("predicted same")],
            y=[_("truly different"), _("truly same")],
            labels=dict(x=_("prediction"), y=_("truth"), color=_("pairs")),
        )
        figure.update_layout(
            height=380,
            margin=dict(t=30, b=10),
            title=_("confusion matrix at the slider"),
            coloraxis_showscale=False,
        )
        # whole counts as the prose writes them (Plotly's own text_auto writes 9886 as "9.886k")
        figure.update_traces(text=[[f"{count:,}" for count in row] for row in matrix], texttemplate="%{text}")
        chart(
            figure,
            " ".join(  # each noun agrees with its own count (it said "1 different pairs")
                [
                    ngettext(
                        "At the slider's threshold, {n:,} same pair: {tp:,} called same, {fn:,} called different.",
                        "At the slider's threshold, {n:,} same pairs: {tp:,} called same, {fn:,} called different.",
                        int(matrix[1].sum()),
                    ).format(n=int(matrix[1].sum()), tp=matrix[1, 1], fn=matrix[1, 0]),
                    ngettext(
                        "{n:,} different pair: {tn:,} called different, {fp:,} called same.",
                        "{n:,} different pairs: {tn:,} called different, {fp:,} called same.",
                        int(matrix[0].sum()),
                    ).format(n=int(matrix[0].sum()), tn=matrix[0, 0], fp=matrix[0, 1]),
                ]
            ),
            key="eval.cm",
        )


def roc_and_retrieval(report, threshold: float) -> None:
    scores, same = report.scores, report.same
    left, right = st.columns([3, 2])
    with left:
        fpr, tpr, _thresholds, auc = roc_curve(scores, same)
        figure = go.Figure()
        figure.add_scatter(x=fpr, y=tpr, mode="lines", name=_("ROC (AUC {auc:.4f})").format(auc=auc))
        figure.add_scatter(
            x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name=_("chance")
        )
        matrix = confusion(scores, same, threshold)
        figure.add_scatter(
            x=[matrix[0, 1] / max(matrix[0].sum(), 1)],
            y=[matrix[1, 1] / max(matrix[1].sum(), 1)],
            mode="markers",
            marker=dict(size=12, color="black"),
            name=_("slider threshold"),
        )
        figure.update_layout(
            height=360,
            margin=dict(t=30, b=10),
            title=_("ROC curve · AUC {auc:.4f}").format(auc=auc),
            xaxis_title=_("false positive rate"),
            yaxis_title=_("true positive rate"),
            legend=dict(orientation="h", y=-0.25),  # under the axis title, not on it
        )
        chart(
            figure,
            _(
                "AUC {auc:.4f} (chance: 0.5). At the slider's threshold the true positive rate is {tpr:.1%} "
                "and the false positive rate {fpr:.1%}."
            ).format(
                auc=auc,
                tpr=matrix[1, 1] / max(matrix[1].sum(), 1),
                fpr=matrix[0, 1] / max(matrix[0].sum(), 1),
            ),
            key="eval.roc",
        )
    with right:
        st.subheader(_("Retrieval and one-shot"))
        st.metric(
            "precision@1",
            f"{report.precision_at_1:.3f}",
            help=_("how often a test digit's nearest other test digit has its class"),
        )
        st.metric(
            "MAP@R",
            _("undefined") if report.map_at_r is None else f"{report.map_at_r:.3f}",
            help=_("mean average precision over the R nearest, R = the class size"),
        )
        if report.one_shot is not None:
            way = report.one_shot_way
            st.metric(
                _("{way}-way one-shot on held-out digits").format(way=way),
                f"{100 * report.one_shot:.1f}%",
                help=_("one example of each of {way} never-seen classes; chance is {chance:.0f}%").format(
                    way=way, chance=100 / way
                ),
            )
        else:
            st.caption(
                _(
                    "Train with held-out digits (preset held-out-8-9) to measure one-shot accuracy on classes "
                    "the network never saw."
                )
            )


def hardest_mistakes(report, data, threshold: float) -> None:
    st.subheader(_("The hardest mistakes at the slider"))
    scores, same, names = report.scores, report.same == 1, data.class_names
    false_same = np.flatnonzero(~same & (scores < threshold))
    false_different = np.flatnonzero(same & (scores >= threshold))
    left, right = st.columns(2)
    for column, title, idx, order in (
        (left, _("Closest different pairs (called 'same')"), false_same, np.argsort(scores[false_same])),
        (
            right,
            _("Farthest same pairs (called 'different')"),
            false_different,
            np.argsort(-scores[false_different]),
        ),
    ):
        column.markdown(
            ngettext("**{title}** · {n:,} pair", "**{title}** · {n:,} pairs", len(idx)).format(
                title=title, n=len(idx)
            )
        )
        for p in idx[order][:5]:
            a, b = report.i[p], report.j[p]
            row = column.columns([1, 1, 2])
            for cell, k in zip(row[:2], (a, b), strict=True):
                cell.image(
                    digit_image(data.test.x[k], 2),
                    alt=_("Test digit #{k}, a {name}; the pair's distance is {distance:.3f}.").format(
                        k=k, name=names[data.test.y[k]], distance=scores[p]
                    ),
                )
            row[2].caption(
                _("{a} vs {b} · distance {distance:.3f}").format(
                    a=names[data.test.y[a]], b=names[data.test.y[b]], distance=scores[p]
                )
            )
        if not len(idx):
            column.caption(_("None at this threshold."))


st.title(_("Evaluate"))
st.markdown(
    _(
        "A Siamese network outputs a **distance**; a **threshold** turns it into a verdict. Here are the "
        "distances of same-digit and different-digit **test pairs**, what each threshold would give, and how "
        "well the embedding ranks digits of the same class first."
    )
)
model = active_model()
model_banner(model)
digits = model_dataset(model)
test = test_report(model, digits)
if digits.held_out_classes:
    caption = ngettext(
        "{n:,} balanced test pair from the {data} test split; held-out digits {held_out} included.",
        "{n:,} balanced test pairs from the {data} test split; held-out digits {held_out} included.",
        len(test.scores),
    )
else:
    caption = ngettext(
        "{n:,} balanced test pair from the {data} test split.",
        "{n:,} balanced test pairs from the {data} test split.",
        len(test.scores),
    )
st.caption(
    caption.format(n=len(test.scores), data=digits.title, held_out=list(digits.held_out_classes or ()))
)
slider_threshold = threshold_ui(test, model)
histograms(test, model, slider_threshold)
roc_and_retrieval(test, slider_threshold)
hardest_mistakes(test, digits, slider_threshold)
