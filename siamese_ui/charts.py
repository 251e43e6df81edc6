"""Every chart with its text equivalent (WCAG 1.1.1): a one-sentence summary computed from the
chart's own data, and the data as a table behind one click. All Plotly charts go through
:func:`chart` (tests/ui/test_charts.py checks no page calls ``plotly_chart`` itself), so a new chart
cannot arrive without its sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import N_, _, ngettext

from .formatting import column_config

TABLE_LABEL = N_("The chart as a table")  # shown through _()


def header(message: str) -> str:
    """A table header marked with its context, "histogram bin|from": translated as a whole (the
    board's "from" is another word in Chinese), shown without the context (gettext's old "Q_"
    convention; Babel's msgctxt would need pgettext in siamese_core/i18n.py)."""
    return _(message).rpartition("|")[2]


def chart(
    figure,
    summary: str,
    *,
    key: str,
    table: pd.DataFrame | None = None,
    table_on_page: bool = False,
    where=None,
    **kwargs,
):
    """``figure`` as an interactive chart, ``summary`` under it, and ``table`` (default: the figure's
    own traces, :func:`figure_table`) in an expander, unless ``table_on_page``: the page already
    shows the chart's data in a table beside it. Returns what ``plotly_chart`` returns (a
    selection, for a chart with ``on_select``)."""
    where = where if where is not None else st.container()
    with where:
        event = st.plotly_chart(figure, width="stretch", key=key, **kwargs)
        st.caption(summary)
        rows = figure_table(figure) if table is None else table
        if len(rows) and not table_on_page:
            with st.expander(_(TABLE_LABEL)):
                st.dataframe(
                    rows,
                    hide_index=True,
                    width="stretch",
                    key=f"{key}.table",
                    column_config=column_config(rows),
                )
    return event


def _values(array) -> list:
    return [] if array is None else list(np.asarray(array).ravel())


def figure_table(figure) -> pd.DataFrame:
    """The figure's data, one row per point: the series (trace) name, x and y. A histogram's trace
    becomes its bins' counts (its raw values can be thousands of pairs); a heatmap its cells. The
    columns are named in the reader's language (call it at display time)."""
    series, low, high = (
        header(N_("chart table|series")),
        header(N_("histogram bin|from")),
        header(N_("histogram bin|to")),
    )
    count = header(N_("histogram bin|count"))
    row, column, value = header(N_("heatmap|row")), header(N_("heatmap|column")), header(N_("heatmap|value"))
    rows: list[dict] = []
    for trace in figure.data:
        name = getattr(trace, "name", None) or ""
        kind = trace.type
        if kind == "histogram":
            values = np.asarray(_values(trace.x), dtype=float)
            if not len(values):
                continue
            bins = trace.xbins
            if bins is not None and bins.size:
                edges = np.arange(bins.start, bins.end + bins.size, bins.size)
            else:
                edges = np.histogram_bin_edges(values, bins=30)
            counts, edges = np.histogram(values, bins=edges)
            rows.extend(
                {series: name, low: float(lo), high: float(hi), count: int(c)}
                for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
                if c
            )
        elif kind == "heatmap":
            z = np.asarray(trace.z)
            xs, ys = _values(trace.x) or list(range(z.shape[1])), _values(trace.y) or list(range(z.shape[0]))
            rows.extend(
                {row: ys[i], column: xs[j], value: z[i, j]} for i in range(len(ys)) for j in range(len(xs))
            )
        elif kind in ("scatter", "scattergl", "bar"):
            xs, ys = _values(trace.x), _values(trace.y)
            rows.extend({series: name, "x": x, "y": y} for x, y in zip(xs, ys, strict=False))
    return pd.DataFrame(rows)


def heatmap_figure(matrix, x: list[str], y: list[str], labels: dict[str, str]) -> go.Figure:
    """``px.imshow(matrix, color_continuous_scale="Blues", x=x, y=y, labels=labels)`` built from graph
    objects, the same figure (tests/ui/test_charts.py): Express took ~20 ms of the web server's CPU
    for a 2 x 2 matrix on a quiet core, on every run of the Evaluate page. Blues' nine colours at
    Express's evenly spaced stops (another scale's stops could differ from Express's in the last digit)."""
    scale = plotly.colors.sequential.Blues
    stops = np.linspace(0, 1, len(scale))
    hover = "<br>".join(f"{labels[k]}: %{{{k}}}" for k in ("x", "y")) + f"<br>{labels['color']}: %{{z}}"
    axis = dict(domain=[0.0, 1.0], constrain="domain")  # both axes: square cells filling the width
    return go.Figure(
        go.Heatmap(
            z=np.asarray(matrix),
            x=list(x),
            y=list(y),
            coloraxis="coloraxis",
            name="0",
            xaxis="x",
            yaxis="y",
            hovertemplate=hover + "<extra></extra>",
        ),
        layout=dict(
            xaxis=dict(axis, anchor="y", scaleanchor="y", title=dict(text=labels["x"])),
            yaxis=dict(axis, anchor="x", autorange="reversed", title=dict(text=labels["y"])),
            coloraxis=dict(
                colorbar=dict(title=dict(text=labels["color"])),
                colorscale=[[float(stop), colour] for stop, colour in zip(stops, scale, strict=True)],
                autocolorscale=False,
            ),
            margin=dict(t=60),
        ),
    )


def clusters_in_words(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The scatter's text equivalent: per digit, its points, the middle of its cluster and how
    spread it is (median distance of its points to that middle, in the map's units), and a sentence
    naming the tightest and the loosest cluster, in the reader's language (call it at display time;
    ``frame`` has the columns x, y and digit).

    Figures keep three significant digits of the map's extent (an untrained network's map can be a
    hundredth wide); a map with no extent says that every point lies at one spot (a collapsed model),
    and clusters equally spread are named as such, not as tightest and loosest."""
    rows = []
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()  # in their own dtype (float32 maps), as pandas
    # in NumPy, digit by digit in sorted order (a groupby's): pandas' groupby took ~20 ms of the web
    # server's CPU per map in a class of 30, twice on every run of the Embeddings page (BENCHMARKS.md)
    codes, names = pd.factorize(frame["digit"], sort=True)
    for k, name in enumerate(names):
        mine = codes == k
        middle_x, middle_y = np.median(x[mine]), np.median(y[mine])
        rows.append(
            {
                "digit": name,
                "points": int(mine.sum()),
                "middle x": middle_x,
                "middle y": middle_y,
                "spread": float(np.median(np.hypot(x[mine] - middle_x, y[mine] - middle_y))),
            }
        )
    extent = float(max(np.ptp(frame["x"]), np.ptp(frame["y"]))) if len(frame) else 0.0
    scale = float(np.abs(frame[["x", "y"]].to_numpy()).max()) if len(frame) else 0.0
    one_spot = extent <= 1e-6 * max(scale, 1.0)
    decimals = 3 if one_spot else max(3, 2 - int(np.floor(np.log10(extent))))
    table = pd.DataFrame(rows).round(decimals)
    if one_spot:
        table["spread"] = 0.0
    shown = {message.rpartition("|")[2]: header(message) for message in CLUSTER_COLUMNS}
    tight, loose = table.loc[table["spread"].idxmin()], table.loc[table["spread"].idxmax()]
    if one_spot:
        sentence = ngettext(
            "{points:,} point, all at one spot: the model gives every digit the same embedding, so the "
            "map cannot tell the digits apart.",
            "{points:,} points, all at one spot: the model gives every digit the same embedding, so the "
            "map cannot tell the digits apart.",
            len(frame),
        ).format(points=len(frame))
        return table.rename(columns=shown), sentence
    if tight["spread"] == loose["spread"]:
        sentence = ngettext(
            "{points:,} points in {clusters} digit cluster, each labelled with its digit, spread {spread:.3g} "
            "(median distance to its middle).",
            "{points:,} points in {clusters} digit clusters, each labelled with its digit, all equally "
            "spread: median distance to their middle {spread:.3g}.",
            len(table),
        ).format(points=len(frame), clusters=len(table), spread=tight["spread"])
        return table.rename(columns=shown), sentence
    sentence = ngettext(
        "{points:,} points in {clusters} digit cluster, each labelled with its digit. Tightest: {tight} "
        "(median distance to its middle {tight_spread:.3g}); loosest: {loose} ({loose_spread:.3g}).",
        "{points:,} points in {clusters} digit clusters, each labelled with its digit. Tightest: {tight} "
        "(median distance to its middle {tight_spread:.3g}); loosest: {loose} ({loose_spread:.3g}).",
        len(table),
    ).format(
        points=len(frame),
        clusters=len(table),
        tight=tight["digit"],
        tight_spread=tight["spread"],
        loose=loose["digit"],
        loose_spread=loose["spread"],
    )
    return table.rename(columns=shown), sentence


# The cluster table's columns (clusters_in_words), with their context (see header).
CLUSTER_COLUMNS = (
    N_("cluster table|digit"),
    N_("cluster table|points"),
    N_("cluster table|middle x"),
    N_("cluster table|middle y"),
    N_("cluster table|spread"),
)
