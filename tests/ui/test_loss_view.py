"""The contrastive loss on screen: the plotted curves are the training loss itself, worked out
by hand at a few distances."""

import numpy as np
import pytest

from siamese_ui.loss_view import FORMULA, loss_curves, loss_figure


@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
def test_the_curves_are_the_contrastive_loss_by_hand(margin):
    d, same, different = loss_curves(margin, points=401)
    for x in (0.0, margin / 2, margin, 1.5 * margin):
        k = int(np.argmin(np.abs(d - x)))
        assert same[k] == pytest.approx(d[k] ** 2, rel=1e-5, abs=1e-6)  # y = 1: d²
        assert different[k] == pytest.approx(max(margin - d[k], 0.0) ** 2, rel=1e-5, abs=1e-6)
    assert different[d >= margin].max() == 0.0  # past the margin a different pair costs nothing
    assert d[-1] == pytest.approx(max(2 * margin, 1.5))


def test_the_figure_draws_the_margin_where_it_is_and_cosine_stops_at_2():
    figure = loss_figure(0.7)
    margin_line = next(t for t in figure.data if t.name.startswith("margin"))
    assert list(margin_line.x) == [0.7, 0.7]
    assert max(loss_figure(0.5, "cosine").data[0].x) == pytest.approx(2.0)


def test_the_formula_names_both_terms():
    assert r"y\,d^{2}" in FORMULA and r"(1-y)\,\max(m-d,\;0)^{2}" in FORMULA
