"""The transfer post's RankIQA: learning to rank image quality from pairs of distortion levels.

Each digit is shown at L distortion levels (0 = untouched, L-1 = worst). A single-branch
scorer gives every image a quality score; a batch holds G groups of one digit at all L
levels, and the scores are reshaped to (G, L), the post's batch trick: every pair inside a
group is a Siamese pair, with no pair ever materialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from siamese_core.i18n import N_
from siamese_core.lessons import ShownText

if TYPE_CHECKING:  # TensorFlow only where a model is built or run: the web server imports this module
    from siamese_core.network._keras import keras

KINDS = ("blur", "noise")
KIND_NAMES = {"blur": N_("blur"), "noise": N_("noise")}  # what the page shows (translated there)


def distort(x: np.ndarray, level: int, kind: str = "blur", seed: int = 0) -> np.ndarray:
    """One uint8 (n, 28, 28) batch at a distortion level: Gaussian blur of sigma 0.5*level,
    or Gaussian noise of standard deviation 22*level grey levels."""
    if level == 0:
        return x.copy()
    if kind == "blur":
        from PIL import Image, ImageFilter

        f = ImageFilter.GaussianBlur(radius=0.5 * level)
        return np.stack([np.asarray(Image.fromarray(im).filter(f)) for im in x])
    if kind == "noise":
        rng = np.random.default_rng(seed + level)
        return np.clip(x + rng.normal(0, 22 * level, x.shape), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown distortion {kind!r}")


def ranking_set(x: np.ndarray, levels: int = 6, kind: str = "blur", seed: int = 0) -> np.ndarray:
    """(n, levels, 28, 28) uint8: every image at every level, level 0 first."""
    return np.stack([distort(x, lv, kind, seed) for lv in range(levels)], axis=1)


def operator_matrix(levels: int) -> np.ndarray:
    """The post's L x (L-1) operator: column j = sum over worse levels i > j of (s_j - s_i).

    For L = 6 the first column is (5, -1, -1, -1, -1, -1)^T, the second (0, 4, -1, -1, -1, -1)^T.
    """
    m = np.zeros((levels, levels - 1), np.float32)
    for j in range(levels - 1):
        m[j, j] = levels - 1 - j
        m[j + 1 :, j] = -1
    return m


def operator_loss(scores, margin: float = 1.0):
    """Seed form. scores: (G, L), level 0 best. mean over (G, L-1) of max(0, margin - S @ O)."""
    from siamese_core.network._keras import ops

    levels = scores.shape[-1]
    col = ops.matmul(scores, ops.convert_to_tensor(operator_matrix(levels)))
    return ops.mean(ops.maximum(0.0, margin - col))


def pairwise_loss(scores, margin: float = 1.0):
    """Per-pair hinge. scores: (G, L). mean over groups and ordered pairs i < j (i better) of
    max(0, margin - (s_i - s_j))."""
    from siamese_core.network._keras import ops

    levels = scores.shape[-1]
    diff = ops.expand_dims(scores, 2) - ops.expand_dims(scores, 1)  # [g, i, j] = s_i - s_j
    mask = np.triu(np.ones((levels, levels), np.float32), k=1)
    hinge = ops.maximum(0.0, margin - diff) * mask
    return ops.sum(hinge) / (ops.cast(ops.shape(scores)[0], "float32") * mask.sum())


LOSSES = {"operator": operator_loss, "pairwise": pairwise_loss}
LOSS_NAMES = {"operator": N_("operator"), "pairwise": N_("pairwise")}  # the losses as the page shows them


def build_scorer(name: str = "quality_scorer") -> keras.Model:
    from siamese_core.network._keras import keras, layers
    from siamese_core.network.models import IMAGE_SHAPE

    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255)(inp)
    x = layers.Reshape((*IMAGE_SHAPE, 1))(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    return keras.Model(inp, layers.Dense(1, name="score")(x), name=name)


def train_scorer(
    groups: np.ndarray,
    loss: str = "pairwise",
    steps: int = 200,
    groups_per_batch: int = 8,
    margin: float = 1.0,
    learning_rate: float = 1e-3,
    seed: int = 0,
    report=None,
):
    """Train a scorer on (n, L, 28, 28) groups. Returns (model, loss per step).
    ``report(fraction, message)``, when given, is called every 25 steps."""
    import tensorflow as tf

    from siamese_core.network._keras import keras
    from siamese_core.network.models import IMAGE_SHAPE

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_scorer()
    opt = keras.optimizers.Adam(learning_rate)
    loss_fn = LOSSES[loss]
    n, levels = groups.shape[:2]

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            s = model(tf.reshape(batch, (-1, *IMAGE_SHAPE)), training=True)
            value = loss_fn(tf.reshape(s, (-1, levels)), margin)  # the post's reshape
        grads = tape.gradient(value, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return value

    history = []
    for k in range(steps):
        if report is not None and k % 25 == 0:
            report(k / steps, ShownText(N_("step {step} of {steps}"), step=k, steps=steps))
        batch = groups[rng.integers(0, n, groups_per_batch)]
        history.append(float(step(tf.constant(batch))))
    return model, history


def scores_by_level(model, groups: np.ndarray) -> np.ndarray:
    """(n, L) scores of held-out groups."""
    from siamese_core.network.models import IMAGE_SHAPE

    n, levels = groups.shape[:2]
    flat = groups.reshape(-1, *IMAGE_SHAPE)
    return np.asarray(model.predict(flat, verbose=0, batch_size=1024)).reshape(n, levels)


def srocc(scores: np.ndarray) -> float:
    """Spearman rank correlation between score and quality (quality = -level), pooled."""
    from scipy.stats import spearmanr

    n, levels = scores.shape
    quality = -np.tile(np.arange(levels), n)
    return float(spearmanr(scores.ravel(), quality).statistic)


POST_SETTING = {
    "groups_per_batch": 4,
    "levels": 6,
    "margin": 100.0,
}  # the transfer post: a batch of 24, margin 100


@dataclass(frozen=True)
class OperatorTerms:
    """One batch's operator loss, laid out: its (G, L) scores R, R @ O, and the hinge
    max(0, margin - R @ O) whose mean is the loss."""

    scores: np.ndarray
    column_sums: np.ndarray
    hinge: np.ndarray


def operator_terms(scores: np.ndarray, margin: float) -> OperatorTerms:
    """For a (G, L) score matrix R of one batch (NumPy, for display)."""
    scores = np.asarray(scores, np.float32)
    column_sums = scores @ operator_matrix(scores.shape[1])
    return OperatorTerms(scores, column_sums, np.maximum(0.0, margin - column_sums))


@dataclass(frozen=True)
class RankingRun:
    """What "Train the scorer" measured."""

    history: tuple[float, ...]  # the ranking loss per step
    scores: np.ndarray  # (test groups, levels): each test digit's learned score at every level
    srocc: float  # rank correlation of the scores with the true quality order
    loss: str  # the ranking loss it trained with
    kind: str  # the distortion
    margin: float
    batch: OperatorTerms  # the first test batch's operator loss, laid out


def ranking_lesson(
    report,
    train_x: np.ndarray,
    test_x: np.ndarray,
    levels: int,
    kind: str,
    loss: str,
    steps: int,
    groups_per_batch: int = POST_SETTING["groups_per_batch"],
    margin: float = POST_SETTING["margin"],
) -> RankingRun:
    """The More lessons task "Train the scorer": train on ``train_x``'s distorted groups, score
    ``test_x``'s, measure the rank correlation with the true order, and lay out the operator
    loss of the first test batch (``groups_per_batch`` groups)."""
    model, history = train_scorer(
        ranking_set(train_x, levels, kind),
        loss,
        steps=steps,
        groups_per_batch=groups_per_batch,
        margin=margin,
        report=report,
    )
    scores = scores_by_level(model, ranking_set(test_x, levels, kind))
    return RankingRun(
        history=tuple(float(h) for h in history),
        scores=scores,
        srocc=srocc(scores),
        loss=loss,
        kind=kind,
        margin=margin,
        batch=operator_terms(scores[:groups_per_batch], margin),
    )
