"""The Train page's status panel as one HTML block: progress line, figures, and (while a run
trains) the two SVG charts and the last epochs' table.

Why one block: the live view redraws about once a second, and Streamlit's browser side pays for
every element it updates. With a progress bar, five st.metric, two charts and a table as separate
elements, Chromium took 8% of a 2-core laptop; the same content as one Markdown block took 4%,
and training with the page open went from ~0.87 to ~0.97 of the engine alone (BENCHMARKS.md).

Pure Python (no streamlit import), so tests can check the markup. Every text is escaped; the
block has no newline, so Markdown keeps it as one raw HTML block. Also here: the small script that
keeps the keyboard on the controls after Start (:func:`focus_script`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from html import escape

from siamese_core.i18n import _

TEXT, MUTED, TRACK = "#31333f", "#6b6f7b", "rgba(49, 51, 63, 0.12)"
PROGRESS_CLASS = "sl-progress"  # the browser tests and bench_app find the progress line by it


def progress_html(fraction: float, text: str, color: str) -> str:
    """A labelled progress bar; ``fraction`` is clamped to [0, 1]."""
    f = min(max(float(fraction), 0.0), 1.0)
    label = escape(_("training progress"), quote=True)
    return (
        f'<div class="{PROGRESS_CLASS}" role="progressbar" aria-label="{label}" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{100 * f:.0f}" style="margin-bottom:1rem">'
        f'<div style="font-size:14px;color:{TEXT};margin-bottom:0.3rem">{escape(text)}</div>'
        f'<div style="height:0.5rem;border-radius:0.25rem;background:{TRACK}">'
        f'<div style="height:100%;width:{100 * f:.1f}%;border-radius:0.25rem;background:{escape(color)}">'
        "</div></div></div>"
    )


def metrics_html(items: Sequence[tuple[str, str]]) -> str:
    """Labelled figures side by side, wrapping on a narrow screen."""
    cards = "".join(
        f'<div class="sl-metric" style="flex:1 1 9rem;min-width:9rem">'
        f'<div class="sl-metric-label" style="font-size:14px;color:{TEXT}">{escape(label)}</div>'
        f'<div class="sl-metric-value" style="font-size:1.75rem;color:{TEXT};line-height:1.4">{escape(value)}</div>'
        "</div>"
        for label, value in items
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:1rem;margin-bottom:1rem">{cards}</div>'


def charts_html(svgs: Sequence[str]) -> str:
    """Charts side by side (one per row on a narrow screen). ``svgs`` are our own ``svg_chart`` output."""
    cells = "".join(f'<div style="flex:1 1 20rem;min-width:0">{svg}</div>' for svg in svgs)
    return f'<div style="display:flex;flex-wrap:wrap;gap:1rem;margin-bottom:1rem">{cells}</div>'


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """A right-aligned table of figures, with an optional caption under it."""
    cell = 'style="text-align:right;padding:0.25rem 0.75rem"'
    head = "".join(f"<th {cell}>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td {cell}>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    note = f'<div style="font-size:14px;color:{MUTED}">{escape(caption)}</div>' if caption else ""
    return f'<table class="sl-epochs"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}'


def panel_html(*parts: str) -> str:
    """The parts as one block; a newline inside would let Markdown end the HTML block early."""
    block = f'<div class="sl-live">{"".join(parts)}</div>'
    return block.replace("\n", " ")


def _key_class(key: str) -> str:
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


# the focus is lost when it is nowhere, on the page body, or on a button that has disabled itself
_LOST = "!active || active === document.body || active.disabled === true"


def focus_container_script(key: str, seconds: float = 5.0) -> str:
    """A script that puts the keyboard focus on the container with widget key ``key`` (made
    focusable by script only: tabindex -1) when the focus is lost, e.g. after a button changed the
    page. Tab then goes on from there: the lesson's Back and Next, then the page's controls."""
    box = json.dumps(_key_class(key))
    return (
        "<script>(() => {"
        f"const box = {box}; let tries = 0;"
        "const timer = setInterval(() => {"
        f"const active = document.activeElement, lost = {_LOST};"
        "const target = document.querySelector(box);"
        "if (!lost) { clearInterval(timer); return; }"
        "if (target) { target.setAttribute('tabindex', '-1'); target.focus(); clearInterval(timer); }"
        f"else if (++tries > {round(seconds * 10)}) {{ clearInterval(timer); }}"
        "}, 100);})();</script>"
    )


def focus_script(after: str | None, targets: Sequence[str], seconds: float = 5.0) -> str:
    """A script that gives the keyboard focus to the first enabled button among ``targets`` (widget
    keys) once the button ``after`` has disabled itself, unless the student has already put the
    focus somewhere else. Why: a button that disables itself on click drops the focus to the page
    body, where Tab starts over from the top and PageDown scrolls nothing; Streamlit 1.67 has no
    way to move the focus. Keys become the classes ``st-key-<key>`` (other characters as ``-``)."""

    start = json.dumps(_key_class(after) + " button" if after else "")
    wanted = json.dumps([_key_class(k) + " button" for k in targets])
    return (
        "<script>(() => {"
        f"const start = {start}, wanted = {wanted}; let tries = 0;"
        "const timer = setInterval(() => {"
        "const active = document.activeElement, from = start ? document.querySelector(start) : null;"
        f"const lost = {_LOST} || (from !== null && from.contains(active));"
        "const target = wanted.map((s) => document.querySelector(s + ':not([disabled])')).find((b) => b);"
        "if (!lost) { clearInterval(timer); return; }"
        "if (target) { target.focus(); clearInterval(timer); }"
        f"else if (++tries > {round(seconds * 10)}) {{ clearInterval(timer); }}"
        "}, 100);})();</script>"
    )
