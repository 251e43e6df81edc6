"""Every chart with its text equivalent (WCAG 1.1.1): a one-sentence summary computed from the
chart's own data, and the data as a table behind one click. All Plotly charts go through
:func:`chart` (tests/ui/test_charts.py checks no page calls ``plotly_chart`` itself), so a new chart
cannot arrive without its sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from .formatting import column_config

TABLE_LABEL = "The chart as a table"


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
            with st.expander(TABLE_LABEL):
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
    becomes its bins' counts (its raw values can be thousands of pairs); a heatmap its cells."""
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
                {"series": name, "from": float(lo), "to": float(hi), "count": int(c)}
                for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
                if c
            )
        elif kind == "heatmap":
            z = np.asarray(trace.z)
            xs, ys = _values(trace.x) or list(range(z.shape[1])), _values(trace.y) or list(range(z.shape[0]))
            rows.extend(
                {"row": ys[i], "column": xs[j], "value": z[i, j]}
                for i in range(len(ys))
                for j in range(len(xs))
            )
        elif kind in ("scatter", "scattergl", "bar"):
            xs, ys = _values(trace.x), _values(trace.y)
            rows.extend({"series": name, "x": x, "y": y} for x, y in zip(xs, ys, strict=False))
    return pd.DataFrame(rows)


def clusters_in_words(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The scatter's text equivalent: per digit, its points, the middle of its cluster and how
    spread it is (median distance of its points to that middle, in the map's units), and a sentence
    naming the tightest and the loosest cluster."""
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
    table = pd.DataFrame(rows).round(3)
    tight, loose = table.loc[table["spread"].idxmin()], table.loc[table["spread"].idxmax()]
    sentence = (
        f"{len(frame):,} points in {len(table)} digit clusters, each labelled with its digit. Tightest: "
        f"{tight['digit']} (median distance to its middle {tight['spread']:.3g}); loosest: {loose['digit']} "
        f"({loose['spread']:.3g})."
    )
    return table, sentence
