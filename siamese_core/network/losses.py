"""Contrastive loss (Hadsell, Chopra & LeCun 2006) and pair accuracy, as pure functions.

Label convention: ``config.SAME`` (1) marks a pair of the same class, ``config.DIFFERENT``
(0) a pair of different classes, as in the Keras example.

Shapes: ``y_true`` and ``distance`` are both ``(batch, 1)``. Keras 3 hands targets to the
loss exactly as given, and ``(n,) - (n, 1)`` broadcasts to ``(n, n)``: every pair is then
compared with every label, and training silently sits at 50% accuracy. These functions
refuse mismatched shapes instead of broadcasting.
"""

from __future__ import annotations

from siamese_core.config import SAME
from siamese_core.network._keras import keras, ops


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


def contrastive_per_pair(y_true, distance, margin: float = 1.0):
    """Per pair, the contrastive loss

        L = y * d**2 + (1 - y) * max(margin - d, 0)**2      with y = 1 (SAME) for the same class

    Same-class pairs are pulled together (d -> 0); different-class pairs are pushed apart
    until they are ``margin`` away, after which they cost nothing. Hadsell, Chopra and LeCun
    (2006) write the same formula with Y = 0 for a similar pair; this code follows the Keras
    example's y = 1 for "same".

    y_true: (batch, 1), 1.0 = same class. distance: (batch, 1), >= 0. Returns (batch, 1).
    """
    _check_same_shape(y_true, distance, "contrastive loss")
    distance = ops.convert_to_tensor(distance)
    y = ops.cast(ops.equal(ops.cast(y_true, distance.dtype), float(SAME)), distance.dtype)
    return y * ops.square(distance) + (1.0 - y) * ops.square(ops.maximum(margin - distance, 0.0))


def contrastive_loss(y_true, distance, margin: float = 1.0):
    """The mean over the batch of :func:`contrastive_per_pair`: a scalar."""
    return ops.mean(contrastive_per_pair(y_true, distance, margin))


def match_cross_entropy(same, p_same, eps: float = 1e-7) -> float:
    """Binary cross-entropy of the matchnet head's p(same) against ``same`` (1 = SAME), in
    NumPy: the same loss its softmax is trained with (sparse categorical cross-entropy over
    the two classes), for pairs already scored."""
    import numpy as np

    p = np.clip(np.asarray(p_same, np.float64), eps, 1 - eps)
    y = np.asarray(same) == SAME
    return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))


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
        return ops.squeeze(contrastive_per_pair(y_true, y_pred, self.margin), axis=-1)

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
