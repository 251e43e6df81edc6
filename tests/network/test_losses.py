import keras
import numpy as np
import pytest

from siamese_core.network.losses import ContrastiveLoss, contrastive_loss, pair_accuracy


def test_contrastive_loss_by_hand():
    # y=1 (same):      d=0.5 -> 0.5^2                = 0.25
    # y=0 (different): d=0.3 -> max(1 - 0.3, 0)^2    = 0.49
    # y=0 (different): d=1.5 -> max(1 - 1.5, 0)^2    = 0
    # y=1 (same):      d=2.0 -> 2^2                  = 4
    y = np.array([[1], [0], [0], [1]], np.float32)
    d = np.array([[0.5], [0.3], [1.5], [2.0]], np.float32)
    assert float(contrastive_loss(y, d)) == pytest.approx((0.25 + 0.49 + 0 + 4) / 4)
    # margin 2: the third pair now costs (2 - 1.5)^2 = 0.25, the second (2 - 0.3)^2 = 2.89
    assert float(contrastive_loss(y, d, margin=2.0)) == pytest.approx((0.25 + 2.89 + 0.25 + 4) / 4)


def test_contrastive_loss_matches_numpy_and_the_keras_wrapper(rng):
    y = rng.integers(0, 2, (257, 1)).astype(np.float32)
    d = rng.uniform(0, 2, (257, 1)).astype(np.float32)
    ref = np.mean(y * d**2 + (1 - y) * np.maximum(0.7 - d, 0) ** 2)
    assert float(contrastive_loss(y, d, 0.7)) == pytest.approx(ref, rel=1e-5)
    assert float(ContrastiveLoss(0.7)(y, d)) == pytest.approx(ref, rel=1e-5)


def test_pair_accuracy_by_hand():
    y = np.array([[1], [0], [1], [0]], np.float32)
    d = np.array([[0.1], [0.9], [0.7], [0.2]], np.float32)  # right, right, wrong, wrong
    assert float(pair_accuracy(y, d)) == pytest.approx(0.5)


def test_flat_labels_are_refused_not_broadcast():
    y = np.array([1, 0, 1], np.float32)  # (n,) against a (n, 1) distance
    d = np.array([[0.1], [0.9], [0.2]], np.float32)
    # what would happen without the guard: a (3, 3) matrix of every label against every pair
    assert (y - d).shape == (3, 3)
    for fn in (contrastive_loss, ContrastiveLoss(), pair_accuracy):
        with pytest.raises(ValueError, match=r"\(n, 1\)"):
            fn(y, d)


def test_fit_with_flat_labels_fails_loudly():
    inp = keras.Input((1,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(loss=ContrastiveLoss(), optimizer="sgd")
    x = np.zeros((8, 1), np.float32)
    with pytest.raises(ValueError, match="broadcast"):
        model.fit(x, np.zeros(8, np.float32), verbose=0, epochs=1)
    model.fit(x, np.zeros((8, 1), np.float32), verbose=0, epochs=1)  # the right shape trains
