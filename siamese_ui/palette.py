"""The app's colours for things that come in pairs, and the second channel each pair also differs by.

Okabe and Ito's colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"): blue and
vermilion stay apart for deuteranopes, protanopes and tritanopes, where the app's earlier green
#2e7d32 and red #c62828 both turned into the same olive (Machado 2009's simulation). Colour is never
the only difference (WCAG 1.4.1): each pair also differs by line dash and marker symbol, and every
chart names its series in the legend and the hover. tests/ui/test_palette.py simulates colour
blindness on the charts that use these and checks every pair stays apart.
"""

from __future__ import annotations

from dataclasses import dataclass

BLUE, VERMILION, ORANGE, BLUISH_GREEN = "#0072B2", "#D55E00", "#E69F00", "#009E73"
SKY_BLUE, REDDISH_PURPLE, YELLOW, BLACK = "#56B4E9", "#CC79A7", "#F0E442", "#000000"
GREY = "#6b6e78"  # lines that are not data (a threshold, chance): 5.0:1 on white


@dataclass(frozen=True)
class Look:
    """How one series of a pair is drawn."""

    colour: str
    dash: str  # Plotly's name: "solid", "dash", "dot"
    symbol: str  # Plotly's marker symbol: "circle", "square", ...
    pattern: str = ""  # Plotly's bar pattern for histograms: "" (solid) or "/"

    @property
    def dasharray(self) -> str:
        """The same dash as an SVG stroke-dasharray ("" for solid)."""
        return {"solid": "", "dash": "7 4", "dot": "2 3"}[self.dash]


SHARED = Look(BLUE, "solid", "circle")
UNSHARED = Look(VERMILION, "dash", "square")
SHARING = {"shared": SHARED, "unshared": UNSHARED}

SAME = Look(BLUE, "solid", "circle")  # a pair of the same digit
DIFFERENT = Look(VERMILION, "dash", "square", pattern="/")  # a pair of different digits

TRAINING = Look(BLUE, "solid", "circle")  # training loss
VALIDATION = Look(VERMILION, "dash", "square")  # validation loss
ACCURACY = Look(BLUISH_GREEN, "solid", "diamond")
