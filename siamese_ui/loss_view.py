"""The contrastive loss made visible: its formula, which label means "same", and the loss
against the distance for a same pair and a different pair at the chosen margin. The numbers of
the plot come from the core's own loss function (``siamese_core.network.losses.contrastive_per_pair``),
the one the network is trained with."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import N_, _

from .charts import chart
from .palette import DIFFERENT, GREY, SAME

FORMULA = r"L(y, d) \;=\; y\,d^{2} \;+\; (1-y)\,\max(m-d,\;0)^{2}"
CONVENTION = N_(  # shown through _()
    "Here **y = 1 means the same digit** and y = 0 different digits, as in the Keras `mnist_siamese` "
    "example this app follows; *d* is the distance between the two embeddings and *m* the margin. "
    "A same pair costs d²: it is pulled together. A different pair costs nothing once it is *m* apart, "
    "and is pushed apart while it is closer."
)
OTHER_SOURCES = N_(  # shown through _()
    "Other sources write it differently. **Hadsell, Chopra and LeCun (2006)**, who introduced the loss, "
    "write **Y = 0 for a similar pair**: the same formula with the labels of its two terms swapped. "
    "**keras.io's example** *Image similarity estimation using a Siamese Network with a contrastive loss* "
    "(2021) has followed them since keras-io pull request #1050 (September 2022): it labels a matching pair "
    "**0** and computes (1 − y)·d² + y·max(m − d, 0)². Copies made before then label a match 1 with that "
    "same loss. Its network also ended in a sigmoid, so the margin of 1 could never be reached; keras-io "
    "#2261 (merged on 22 January 2026, from issue #2230) removed it, so that the model outputs the "
    "distance itself. Read the labels before you copy a loss."
)


def loss_curves(margin: float, top: float | None = None, points: int = 201):
    """(d, loss of a same pair, loss of a different pair) over 0 … ``top`` (default 2·margin,
    at least 1.5), from the training loss itself: shipped for every preset's margin
    (siamese_core/network/shipped.py), else computed by the model service
    (siamese_core/network/service_calls.py), once per server for each margin."""
    from siamese_core.network import shipped
    from siamese_core.tasks import ModelCall

    from .shared import server_call, shared_results

    key = ("loss curves", float(margin), top, points)
    return shared_results().get(
        key,
        lambda: (
            shipped.load_loss_curves(margin, top, points)  # every preset's: no wait for the service
            or server_call(ModelCall.LOSS_CURVES, margin=float(margin), top=top, points=points)
        ),
    )


def loss_figure(margin: float, distance: str = "euclidean") -> go.Figure:
    top = 2.0 if distance == "cosine" else None  # a cosine distance lives in 0 … 2
    d, same, different = loss_curves(margin, top)
    figure = go.Figure()
    figure.add_scatter(
        x=d, y=same, name=_("same digit (y = 1): d²"), line=dict(color=SAME.colour, dash=SAME.dash, width=3)
    )
    figure.add_scatter(
        x=d,
        y=different,
        name=_("different digits (y = 0): max(m − d, 0)²"),
        line=dict(color=DIFFERENT.colour, dash=DIFFERENT.dash, width=3),
    )
    figure.add_scatter(
        x=[margin, margin],
        y=[0.0, float(max(same.max(), different.max()))],
        name=_("margin m = {margin:g}").format(margin=margin),
        mode="lines",
        line=dict(color=GREY, dash="dot"),
    )
    figure.update_layout(
        height=300,
        margin=dict(t=10, b=10),
        xaxis_title=_("distance d between the two embeddings (cosine: 0 … 2)")
        if top
        else _("distance d between the two embeddings"),
        yaxis_title=_("loss of the pair"),
        legend=dict(orientation="h", y=-0.35),
    )
    return figure


def loss_panel(margin: float, distance: str, head: str, key: str) -> None:
    """The formula, the label convention and the plot, for the form's current margin."""
    if head != "distance":
        st.markdown(
            _(
                "The **matchnet** head is not trained with the contrastive loss: its small decision network "
                "outputs p(same), trained with cross-entropy against the label (1 = same digit). Choose the "
                "*distance* head to see the contrastive loss and its margin."
            )
        )
        return
    st.latex(FORMULA)  # full width: in a column the formula was cut off at the right
    left, right = st.columns([2, 3])
    with left:
        st.markdown(_(CONVENTION))
        st.caption(_(OTHER_SOURCES))
    with right:
        chart(
            loss_figure(margin, distance),
            _(
                "A same pair's loss grows as d²; a different pair's, drawn dashed, falls to zero at d = m = "
                "{margin:g}. Move the margin in the form above: past the margin a different pair teaches the "
                "network nothing more."
            ).format(margin=margin),
            key=key,
        )
