"""How numbers are written on screen, in one place: tables format counts as the prose does
(133,504), a sentence that restates a table reads the table's rounded values, and a metric whose
denominator is 0 says "undefined" instead of a made-up 0%."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from siamese_core.i18n import N_, _, current_language

# Streamlit's printf-style column format (sprintf-js): "%,d" writes 133,504, as f"{n:,}" does in
# the sentences beside the table; "localized" would follow the browser's locale and disagree.
COUNT_FORMAT = "%,d"
UNDEFINED = N_("undefined")  # shown through _()


def column_config(rows: pd.DataFrame | Iterable[Mapping], decimals: Mapping[str, int] | None = None) -> dict:
    """``st.dataframe``'s column_config for ``rows``: every whole-number column with thousands
    separators, and each column named in ``decimals`` with that many digits after the point (so 3.0 s
    shows as 3.00 s, the value a sentence beside it restates)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    config = {
        name: st.column_config.NumberColumn(format=COUNT_FORMAT)
        for name in frame.columns
        if frame[name].dtype.kind in "iu"
    }
    for name, digits in (decimals or {}).items():
        config[name] = st.column_config.NumberColumn(format=f"%.{digits}f")
    return config


def significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits: what ``f"{value:.{digits}g}"`` shows."""
    return float(f"{value:.{digits}g}")


def alike(*values: float, digits: int = 3) -> list[str]:
    """Numbers read side by side ("7.19 × 8.00", not "7.19 × 8"): all with the decimals that give the
    largest of them ``digits`` significant digits."""
    largest = max((abs(v) for v in values), default=0.0)
    decimals = max(0, digits - 1 - math.floor(math.log10(largest))) if largest > 0 else 0
    return [f"{v:,.{decimals}f}" for v in values]


def percent(fraction: float | None, decimals: int = 2) -> str:
    """A fraction as a percentage ("98.09%"), or "undefined" when it has no value (0 / 0), in the
    reader's language (call it at display time)."""
    if fraction is None or math.isnan(fraction):
        return _(UNDEFINED)
    return f"{100 * fraction:.{decimals}f}%"


def listed(items: Iterable[str]) -> str:
    """Items of data inside a sentence ("branch 101,632, head 0"), separated as the reader's
    language separates a list (Chinese with 、)."""
    return _(", ").join(items)


# Languages whose sentences follow one another without a space (Chinese ends each with "。").
UNSPACED = frozenset({"zh"})


def sentences(*texts: str) -> str:
    """Whole sentences, each translated on its own, one after the other as the reader's language
    writes them (a space between them in English, none in Chinese); empty ones are left out."""
    return ("" if current_language() in UNSPACED else " ").join(text for text in texts if text)
