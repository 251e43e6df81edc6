"""The Embeddings page's maps of digits: one trace per digit (per digit and "seen in training"
when some classes were held out), the hover's picture of each digit, and each digit's name
written at the middle of its points.

Built with Plotly's graph objects, trace by trace, to the figure Plotly Express made before
(``px.scatter`` with ``color="digit"``; tests/ui/test_scatter.py compares the two): Express took
~0.2 s of the web server's CPU for a thousand points, twice on every run of the page, and a class
of 30 opening Embeddings made it the web server's largest cost (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from siamese_core.i18n import _

OPACITY = 0.8
COLOURS = plotly.colors.qualitative.T10
SYMBOLS = ("circle", "x")  # seen in training, held out


def seen_in_training(held_out: bool) -> str:
    """The map's "seen in training" value, in the reader's language (its legend)."""
    return _("no (held out)") if held_out else _("yes")


def scatter_figure(frame: pd.DataFrame, names: Sequence[str], held_out: bool, height: int = 560) -> go.Figure:
    """The map of ``frame``'s points (columns x, y, digit, "seen in training", picture, position),
    coloured by digit in the order of ``names``; with ``held_out``, the held-out digits as ✕."""
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    digits = frame["digit"].to_numpy()
    seen = frame["seen in training"].to_numpy()
    custom = frame[["picture", "digit", "position"]].to_numpy(dtype=object)
    symbol_of = {seen_in_training(False): SYMBOLS[0], seen_in_training(True): SYMBOLS[1]}
    groups = list(dict.fromkeys(seen)) if held_out else [None]  # in the order they first appear
    hover = (
        _("<b>{digit}</b> (point {point})").format(digit="%{customdata[1]}", point="%{customdata[2]}")
        + "<br><span style='font-family:monospace'>%{customdata[0]}</span><extra></extra>"
    )
    traces = []
    for k, name in enumerate(names):
        for group in groups:
            mask = digits == name if group is None else (digits == name) & (seen == group)
            if not mask.any():
                continue
            label = name if group is None else f"{name}, {group}"
            traces.append(
                go.Scatter(
                    x=x[mask],
                    y=y[mask],
                    customdata=custom[mask],
                    mode="markers",
                    name=label,
                    legendgroup=label,
                    showlegend=True,
                    orientation="v",
                    marker=dict(
                        color=COLOURS[k % len(COLOURS)],
                        opacity=OPACITY,
                        symbol=SYMBOLS[0] if group is None else symbol_of.get(group, SYMBOLS[0]),
                        size=7,
                    ),
                    hovertemplate=hover,
                    # a click picks a point for its neighbours (the ring shows which): Plotly's
                    # selection would also fade every other point to a fifth of its opacity
                    selected=dict(marker=dict(opacity=OPACITY)),
                    unselected=dict(marker=dict(opacity=OPACITY)),
                )
            )
    return go.Figure(
        data=traces,
        layout=dict(
            height=height,
            margin=dict(t=10),
            xaxis=dict(title=dict(text="x")),
            yaxis=dict(title=dict(text="y")),
            hoverlabel=dict(font=dict(family="DejaVu Sans Mono, monospace", size=9)),
            # under the chart, where the toolbar (top right) cannot cover its title, and where a
            # phone's narrow screen leaves the points their width
            legend=dict(
                orientation="h",
                yanchor="top",
                y=-0.12,
                x=0,
                xanchor="left",
                tracegroupgap=0,
                title=dict(text=_("digit, seen in training:") if held_out else _("digit:")),
            ),
            annotations=cluster_labels(frame),
        ),
    )


def cluster_labels(frame: pd.DataFrame) -> list[dict]:
    """Each digit's name written at the middle of its points: ten colours cannot all stay apart for a
    colour-blind student, the written digit can (the hover names every point's digit too)."""
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()  # in their own dtype (float32 maps), as pandas
    codes, names = pd.factorize(frame["digit"])  # in the order the digits first appear
    return [
        dict(
            x=float(np.median(x[codes == k])),
            y=float(np.median(y[codes == k])),
            text=f"<b>{name}</b>",
            showarrow=False,
            font=dict(size=18, color="#0e1117"),
            bgcolor="rgba(255,255,255,0.75)",
        )
        for k, name in enumerate(names)
    ]


def ring_chosen_point(figure: go.Figure, frame: pd.DataFrame, position: int) -> None:
    """A black ring around the chosen point (its neighbours are listed under the chart)."""
    figure.add_scatter(
        x=[frame["x"].iloc[position]],
        y=[frame["y"].iloc[position]],
        mode="markers",
        marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=2.5, color="black")),
        name=_("chosen point"),
        hoverinfo="skip",  # not clickable: a click goes to the digit under it
    )
