"""Light line charts as inline SVG, for the Train page's live view.

Why not Plotly while a run is going: the live view redraws about once a second, and on a 2-core
laptop running both the server and the browser, Plotly's redraw of two charts took a third of the
CPU away from the training (BENCHMARKS.md). An SVG of a few hundred points costs the browser almost
nothing to replace. When the run ends the page switches back to interactive Plotly charts.

Pure Python (no streamlit import), so tests can check the geometry. Its words (the summary, "no
data yet") are in the caller's language; the titles and names come translated.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from siamese_core.i18n import _

WIDTH, HEIGHT = 520, 330
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 34, 44  # plot margins; the legend goes below BOTTOM
LEGEND_ROW = 18
CHAR_PX = 6.8  # average width of a 13 px sans-serif character, to lay out the legend
WIDE_CHAR_PX = 13.0  # a Chinese character is as wide as the font is high


@dataclass(frozen=True)
class Series:
    name: str
    x: Sequence[float]
    y: Sequence[float | None]
    color: str
    lines: bool = True
    markers: bool = False
    dash: str = ""  # an SVG stroke-dasharray ("7 4"); "" is solid. Pairs differ by more than colour.
    marker: str = "circle"  # "circle" or "square"
    end_label: str = ""  # written next to the line's last point (the series named where it ends)


def _finite(values: Sequence) -> list[tuple[int, float]]:
    return [(k, float(v)) for k, v in enumerate(values) if v is not None and math.isfinite(v)]


def series_summary(series: Sequence[Series], x_title: str) -> str:
    """One sentence for a line chart: each series from its first to its last value, and where.
    The live SVG charts carry it as their text (they are redrawn every second, so it stays true)."""
    parts = []
    for s in series:
        points = _finite(s.y)
        if not points:
            continue
        (k0, y0), (k1, y1) = points[0], points[-1]
        if len(points) == 1:
            parts.append(
                _("{name}: {y:.4g} at {x_title} {x:,}").format(name=s.name, y=y0, x_title=x_title, x=s.x[k0])
            )
            continue
        if y1 < y0:
            said = _("{name} fell from {first:.4g} to {last:.4g} ({x_title} {x0:,} to {x1:,})")
        elif y1 > y0:
            said = _("{name} rose from {first:.4g} to {last:.4g} ({x_title} {x0:,} to {x1:,})")
        else:
            said = _("{name} stayed from {first:.4g} to {last:.4g} ({x_title} {x0:,} to {x1:,})")
        parts.append(said.format(name=s.name, first=y0, last=y1, x_title=x_title, x0=s.x[k0], x1=s.x[k1]))
    if not parts:
        return _("No data yet.")
    # Translators: the series' sentences joined into one, and its end
    return _("{sentences}.").format(sentences=_("; ").join(parts))


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, k = [], 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


def _label(v: float) -> str:
    if float(v).is_integer():
        return f"{int(v):,}"  # batch numbers: 12,000 rather than 1.2e+04
    if abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.4g}"


def _range(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi == lo:
        pad = abs(lo) * 0.1 or 0.5
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def text_width(text: str) -> float:
    """About how wide ``text`` is drawn at 13 px: a wide (Chinese) character takes twice a Latin one."""
    return sum(WIDE_CHAR_PX if unicodedata.east_asian_width(c) in "WF" else CHAR_PX for c in text)


def _legend_rows(series: Sequence[Series]) -> list[list[tuple[Series, float]]]:
    """Legend entries laid out left to right, wrapping to a new row when a row is full."""
    rows: list[list[tuple[Series, float]]] = [[]]
    x = LEFT
    for s in series:
        w = 26 + text_width(s.name) + 18
        if rows[-1] and x + w > WIDTH - RIGHT:
            rows.append([])
            x = LEFT
        rows[-1].append((s, x))
        x += w
    return rows


def _marker(s: Series, x: float, y: float) -> str:
    if s.marker == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{s.color}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{s.color}"/>'


def _dash(s: Series) -> str:
    return f' stroke-dasharray="{s.dash}"' if s.dash else ""


def _segments(s: Series) -> list[list[tuple[float, float]]]:
    """The series' points split into runs of finite values: a missing or infinite y breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(s.x, s.y, strict=True):
        if y is None or not math.isfinite(y) or not math.isfinite(x):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((float(x), float(y)))
    return [r for r in runs if r]


def svg_chart(series: Sequence[Series], title: str, x_title: str) -> str:
    """One line chart as an ``<svg>`` string that scales to its container's width.

    Points whose y is None or not finite are left out and break the line (a diverging loss shows
    as a gap, not a crash); the axes cover all series' finite points, y padded by 5%.
    """
    segs = [_segments(s) for s in series]
    legend = _legend_rows(series)
    height = HEIGHT + LEGEND_ROW * (len(legend) - 1)
    plot_bottom = HEIGHT - BOTTOM - LEGEND_ROW * 1.5
    label = _("{title}: {summary}").format(title=title, summary=series_summary(series, x_title))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" style="width:100%;height:auto;font-family:sans-serif;font-size:13px">',
        f'<text x="{LEFT}" y="20" font-size="15" fill="#31333f">{escape(title)}</text>',
    ]
    xs = [x for runs in segs for run in runs for x, _ in run]
    ys = [y for runs in segs for run in runs for _, y in run]
    if not xs:
        empty = escape(_("no data yet"))
        out.append(
            f'<text x="{WIDTH / 2}" y="{plot_bottom / 2 + TOP / 2}" text-anchor="middle" fill="#5c5f6b">'
            f"{empty}</text></svg>"
        )
        return "".join(out)
    x0, x1 = (min(xs), max(xs)) if max(xs) > min(xs) else (min(xs) - 1, max(xs) + 1)
    y0, y1 = _range(ys)
    right = WIDTH - RIGHT

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * (right - LEFT)

    def py(y: float) -> float:
        return plot_bottom - (y - y0) / (y1 - y0) * (plot_bottom - TOP)

    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{right - LEFT}" height="{plot_bottom - TOP}" fill="#f8f9fb"/>'
    )
    for t in nice_ticks(y0, y1):
        y = py(t)
        out.append(
            f'<line x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6e9ef"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_label(t)}</text>'
        )
    for t in nice_ticks(x0, x1, 6):
        x = px(t)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{plot_bottom}" stroke="#e6e9ef"/>'
            f'<text x="{x:.1f}" y="{plot_bottom + 16:.1f}" text-anchor="middle" fill="#555">{_label(t)}</text>'
        )
    out.append(
        f'<text x="{(LEFT + right) / 2}" y="{plot_bottom + 32:.1f}" text-anchor="middle" fill="#31333f">'
        f"{escape(x_title)}</text>"
    )
    for s, runs in zip(series, segs, strict=True):
        for run in runs:
            coords = [(px(x), py(y)) for x, y in run]
            if s.lines and len(coords) > 1:
                path = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
                out.append(
                    f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2" '
                    f'stroke-linejoin="round"{_dash(s)}/>'
                )
            if s.markers or len(coords) == 1:  # a lone point of a line still shows
                out.extend(_marker(s, a, b) for a, b in coords)
        if s.end_label and runs:
            a, b = px(runs[-1][-1][0]), py(runs[-1][-1][1])
            out.append(
                f'<text x="{a - 4:.1f}" y="{b - 7:.1f}" text-anchor="end" font-size="12" fill="#31333f">'
                f"{escape(s.end_label)}</text>"
            )
    for i, row in enumerate(legend):
        y = plot_bottom + 50 + i * LEGEND_ROW
        for s, x in row:
            mark = (
                f'<line x1="{x}" x2="{x + 20}" y1="{y - 4}" y2="{y - 4}" stroke="{s.color}" stroke-width="2"'
                f"{_dash(s)}/>"
                if s.lines
                else ""
            )
            if s.markers:
                mark += _marker(s, x + 10, y - 4)
            out.append(f'{mark}<text x="{x + 26}" y="{y}" fill="#31333f">{escape(s.name)}</text>')
    out.append("</svg>")
    return "".join(out)
