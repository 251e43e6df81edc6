"""Contrastive loss (Hadsell, Chopra & LeCun 2006) and pair accuracy, as pure functions.

Label convention: ``config.SAME`` (1) marks a pair of the same class, ``config.DIFFERENT``
(0) a pair of different classes, as in the Keras example (seed 003).

Shapes: ``y_true`` and ``distance`` are both ``(batch, 1)``. Keras 3 hands targets to the
loss exactly as given, and ``(n,) - (n, 1)`` broadcasts to ``(n, n)``: every pair is then
compared with every label, and training silently sits at 50% accuracy. These functions
refuse mismatched shapes instead of broadcasting.
"""

from __future__ import annotations

from ._keras import keras, ops
from .config import SAME


def _check_same_shape(y_true, y_pred, what: str) -> None:
    ts, ps = tuple(y_true.shape), tuple(y_pred.shape)
    if len(ts) != len(ps) or any(
        a is not None and b is not None and a != b for a, b in zip(ts, ps, strict=True)
    ):
        raise ValueError(
            f"{what}: targets of shape {ts} against outputs of shape {ps}. "
            "Shape the labels like the model output, e.g. (n, 1); a (n,) label would "
            "broadcast to (n, n) and ruin training without an error."
        )


def contrastive_loss(y_true, distance, margin: float = 1.0):
    """Mean over the batch of

        L = y * d**2 + (1 - y) * max(margin - d, 0)**2      with y = 1 for the same class

    Same-class pairs are pulled together (d -> 0); different-class pairs are pushed apart
    until they are ``margin`` away, after which they cost nothing.

    y_true: (batch, 1), 1.0 = same class. distance: (batch, 1), >= 0. Returns a scalar.
    """
    _check_same_shape(y_true, distance, "contrastive_loss")
    y = ops.cast(ops.equal(ops.cast(y_true, distance.dtype), float(SAME)), distance.dtype)
    positive = ops.square(distance)
    negative = ops.square(ops.maximum(margin - distance, 0.0))
    return ops.mean(y * positive + (1.0 - y) * negative)


def pair_accuracy(y_true, distance, threshold: float = 0.5):
    """Fraction of pairs where ``distance < threshold`` agrees with ``y_true == SAME``."""
    _check_same_shape(y_true, distance, "pair_accuracy")
    predicted_same = ops.cast(distance < threshold, "float32")
    truth = ops.cast(ops.equal(ops.cast(y_true, "float32"), float(SAME)), "float32")
    return ops.mean(ops.cast(ops.equal(predicted_same, truth), "float32"))


@keras.saving.register_keras_serializable(package="siamese_core")
class ContrastiveLoss(keras.losses.Loss):
    """Keras wrapper of :func:`contrastive_loss` (per-sample values, Keras reduces)."""

    def __init__(self, margin: float = 1.0, name: str = "contrastive_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        _check_same_shape(y_true, y_pred, "ContrastiveLoss")
        y = ops.cast(y_true, y_pred.dtype)
        per_pair = y * ops.square(y_pred) + (1.0 - y) * ops.square(
            ops.maximum(self.margin - y_pred, 0.0)
        )
        return ops.squeeze(per_pair, axis=-1)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


@keras.saving.register_keras_serializable(package="siamese_core")
class PairAccuracy(keras.metrics.MeanMetricWrapper):
    """Keras metric of :func:`pair_accuracy` at a fixed threshold."""

    def __init__(self, threshold: float = 0.5, name: str = "pair_accuracy", dtype=None):
        super().__init__(pair_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = float(threshold)

    def get_config(self):
        return {"threshold": self.threshold, "name": self.name, "dtype": self.dtype}
