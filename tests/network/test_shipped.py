"""The pretrained model's shipped figures (siamese_core/network/shipped.py) are what the model
gives: recomputed here from the model and the data set, number for number."""

import numpy as np
import pytest

from siamese_core.network import shipped
from siamese_core.network.data import DatasetUnavailable, load_arrays, load_dataset
from siamese_core.network.evaluation import pretrained_figures
from siamese_core.network.persistence import config_from_meta, load_default


def full_mnist_here() -> bool:
    try:
        load_arrays("mnist")
        return True
    except DatasetUnavailable:
        return False


@pytest.mark.parametrize("dataset", shipped.DATASETS)
def test_the_shipped_figures_are_the_models_own(dataset):
    if dataset == "mnist" and not full_mnist_here():
        pytest.skip("full MNIST is not on this machine (CI has no internet for it)")
    _model, meta = load_default()
    config = config_from_meta(meta)
    held_out = tuple(config.held_out_classes)
    data = load_dataset(dataset, 0, held_out)
    n = min(shipped.N_POINTS, len(data.test.y))
    shown = shipped.load(dataset, held_out, n)
    assert shown is not None, f"no shipped figures for {dataset}: run tools/pretrained_figures.py"
    here = pretrained_figures(lambda *_: None, data, n)
    np.testing.assert_array_equal(shown.report.i, here.report.i)
    np.testing.assert_array_equal(shown.report.j, here.report.j)
    np.testing.assert_array_equal(shown.report.same, here.report.same)
    np.testing.assert_allclose(shown.report.scores, here.report.scores, atol=1e-4)
    np.testing.assert_allclose(shown.sample_embeddings, here.sample_embeddings, atol=1e-4)
    assert shown.report.threshold == pytest.approx(float(meta["threshold"]))
    for name in ("accuracy", "auc", "precision_at_1"):
        assert getattr(shown.report, name) == pytest.approx(getattr(here.report, name), abs=1e-3), name


def test_figures_not_shipped_are_none():
    assert shipped.load("mnist-5k", (1, 2, 3), 1000) is None
