"""Numbers as the pages write them (siamese_ui/formatting.py), worked out by hand."""

from __future__ import annotations

from siamese_ui.formatting import alike


def test_numbers_read_side_by_side_have_the_same_decimals():
    """The replay's title read "7.19 × 8" (an exploratory session): ``.3g`` drops a round number's zeros."""
    assert alike(7.1874, 8.0) == ["7.19", "8.00"]
    assert alike(0.01234, 0.5) == ["0.012", "0.500"]  # 3 significant digits of the larger: 0.500
    assert alike(123.4, 5.6) == ["123", "6"]
    assert alike(1234.5, 2.0) == ["1,234", "2"]
    assert alike(0.0, 0.0) == ["0", "0"]  # a collapsed cloud spans nothing
