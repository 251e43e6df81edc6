"""The pretrained model's shipped figures (siamese_core/network/shipped.py) are what the model
gives: recomputed here from the model and the data set, number for number."""

import dataclasses

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


@pytest.mark.parametrize("shared", [True, False])
def test_the_shipped_lab_numbers_are_the_built_models(shared):
    """The Weight-sharing lab's default configuration, shipped, equals what building it gives."""
    from siamese_core.config import SiameseConfig
    from siamese_core.network.inspect import lab_measure
    from siamese_ui.shared import DEFAULT_LAB

    config = SiameseConfig(shared=shared, **DEFAULT_LAB)
    loaded = shipped.load_lab(config)
    assert loaded is not None, "no shipped lab numbers: run tools/pretrained_figures.py --lab-only"
    numbers, graph = loaded
    built, built_graph = lab_measure(config)

    def without_ids(breakdown):  # id() differs between builds; which components share one does not
        ids = {c.object_id: k for k, c in reversed(list(enumerate(breakdown.components)))}
        parts = tuple(dataclasses.replace(c, object_id=ids[c.object_id]) for c in breakdown.components)
        return dataclasses.replace(breakdown, components=parts)

    assert without_ids(numbers.breakdown) == without_ids(built.breakdown)
    assert numbers.count_params == built.count_params
    assert (numbers.dot, numbers.graph_text, numbers.code) == (built.dot, built.graph_text, built.code)
    assert graph == built_graph and numbers.digit_label == built.digit_label
    np.testing.assert_array_equal(numbers.digit, built.digit)
    np.testing.assert_allclose(numbers.emb_a, built.emb_a, atol=1e-5)
    np.testing.assert_allclose(numbers.emb_b, built.emb_b, atol=1e-5)
    assert shipped.load_lab(config.replace(embedding_dim=64)) is None  # only the default is shipped


def test_the_shipped_loss_curves_are_the_training_loss_itself():
    """The Train page's loss panel for each preset's margin, shipped, equals the core's loss."""
    from siamese_core.config import PRESETS
    from siamese_core.network.service_calls import loss_curves

    keys = shipped.loss_curve_keys()
    assert {(c.margin, 2.0 if c.distance == "cosine" else None) for c in PRESETS.values()} == {
        (m, top) for m, top, _ in keys
    }
    for key in keys:
        loaded = shipped.load_loss_curves(*key)
        assert loaded is not None, (
            f"no shipped loss curves for {key}: run tools/pretrained_figures.py --lab-only"
        )
        for shown, computed in zip(loaded, loss_curves(*key), strict=True):
            np.testing.assert_allclose(shown, computed, rtol=1e-6, atol=1e-7)
    assert shipped.load_loss_curves(0.123, None, 201) is None  # another margin: the service computes it


def test_the_shipped_facts_are_the_pretrained_models_own():
    from siamese_core.serving.protocol import ModelFacts, model_facts

    model, _meta = load_default()
    known = shipped.load_facts()
    assert known is not None, "no shipped facts: run tools/pretrained_figures.py --lab-only"
    assert ModelFacts(**known) == model_facts(model)
