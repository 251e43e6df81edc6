import io
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from siamese_core.config import SiameseConfig
from siamese_core.network.models import build_siamese
from siamese_core.network.persistence import (
    ModelProblem,
    load_default,
    load_model,
    load_model_bytes,
    load_weights_npz,
    model_bytes,
    save_model,
    weights_npz,
)

X = np.random.default_rng(0).integers(0, 255, (6, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize(
    "config",
    [
        SiameseConfig(embedding_dim=8),
        SiameseConfig(branch="cnn", head="matchnet", embedding_dim=8, shared=False),
    ],
)
def test_keras_round_trip_gives_the_same_outputs(tmp_path, config):
    model = build_siamese(config)
    path = tmp_path / "m.keras"
    save_model(model, path, config, threshold=0.42)
    loaded, meta = load_model(path)
    assert np.allclose(model.predict_on_batch([X, X[::-1]]), loaded.predict_on_batch([X, X[::-1]]), atol=1e-6)
    assert meta["threshold"] == 0.42 and meta["config"]["branch"] == config.branch


def test_files_written_one_after_another_each_hold_their_own_model():
    """save_model reuses an uncompiled copy per architecture: each file must still hold its own
    model's weights and seed, never the previous model's, and the same architecture as a fresh
    build (the seed changes only the weights)."""
    configs = [SiameseConfig(embedding_dim=8, seed=s) for s in (1, 2)] + [
        SiameseConfig(embedding_dim=8, seed=3, shared=False)
    ]
    models = [build_siamese(c) for c in configs]
    files = [model_bytes(m, c) for m, c in zip(models, configs, strict=True)]
    for model, config, data in zip(models, configs, files, strict=True):
        loaded, meta = load_model_bytes(data)
        assert meta["config"]["seed"] == config.seed
        for mine, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
            assert np.array_equal(mine, theirs)
    assert not np.array_equal(models[0].get_weights()[0], models[1].get_weights()[0])
    with zipfile.ZipFile(io.BytesIO(files[1])) as z:
        reused = z.read("config.json")
    fresh = fresh_config_json(configs[1])
    assert reused == fresh


def fresh_config_json(config) -> bytes:
    """config.json of a model of ``config`` saved by Keras itself, from a fresh build."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fresh.keras"
        build_siamese(config).save(path)
        with zipfile.ZipFile(path) as z:
            return z.read("config.json")


def test_npz_of_every_variable_by_name_round_trips():
    a = build_siamese(SiameseConfig(embedding_dim=8, seed=1))
    b = build_siamese(SiameseConfig(embedding_dim=8, seed=2))
    assert not np.allclose(a.predict_on_batch([X, X[::-1]]), b.predict_on_batch([X, X[::-1]]))
    data = weights_npz(a)
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        assert "branch/dense_1/kernel" in z.files and len(z.files) == len(a.weights)
    load_weights_npz(b, data)
    assert np.allclose(a.predict_on_batch([X, X[::-1]]), b.predict_on_batch([X, X[::-1]]))


def test_wrong_shaped_weights_are_refused_and_change_nothing():
    a = build_siamese(SiameseConfig(embedding_dim=8))
    b = build_siamese(SiameseConfig(embedding_dim=16))
    before = [w.copy() for w in b.get_weights()]
    with pytest.raises(ModelProblem, match="shape"):
        load_weights_npz(b, weights_npz(a))
    assert all(np.array_equal(x, y) for x, y in zip(before, b.get_weights()))


def test_a_lambda_layer_is_refused_in_safe_mode(tmp_path):
    a, b = keras.Input((28, 28)), keras.Input((28, 28))
    f = keras.layers.Flatten()
    d = keras.layers.Lambda(lambda t: keras.ops.sum(t[0] - t[1], axis=1, keepdims=True))([f(a), f(b)])
    path = tmp_path / "lambda.keras"
    keras.Model([a, b], d).save(path)
    with pytest.raises(ModelProblem, match="Lambda"):
        load_model(path)


def test_other_architectures_and_corrupt_files_are_refused(tmp_path):
    inp = keras.Input((10,))
    path = tmp_path / "other.keras"
    keras.Model(inp, keras.layers.Dense(3)(inp)).save(path)
    with pytest.raises(ModelProblem, match="not a Siamese model"):
        load_model(path)
    with pytest.raises(ModelProblem, match="not a .keras"):
        load_model_bytes(b"PK\x03\x04 definitely not a zip")
    good = model_bytes(build_siamese(SiameseConfig(embedding_dim=8)))
    buf = io.BytesIO(good[: len(good) // 2])
    with pytest.raises(ModelProblem):
        load_model_bytes(buf.getvalue())
    assert zipfile.is_zipfile(io.BytesIO(good))


def test_the_pretrained_default_loads_and_separates_digits(small_data):
    from siamese_core.network.evaluation import evaluate

    model, meta = load_default()
    assert meta["test_pair_accuracy"] >= 0.97 and "command" in meta
    # the embedded digits were left out of its training, so this is a fair test
    report = evaluate(model, small_data, meta["threshold"])
    assert report.accuracy > 0.95


def test_a_load_waits_for_a_build_in_progress():
    """Loading a model draws its layers' seeds from Python's random, which a build has just seeded:
    a load on a model process's calls thread must not run inside a training thread's build
    (models.BUILD_LOCK), or that seed no longer gives the same starting weights."""
    import threading

    from siamese_core.network.models import BUILD_LOCK
    from siamese_core.serving.protocol import load_keras

    config = SiameseConfig(embedding_dim=8)
    data = model_bytes(build_siamese(config), config)
    done = threading.Event()
    with BUILD_LOCK:  # a build in progress on this thread
        loader = threading.Thread(target=lambda: (load_keras(data), done.set()), daemon=True)
        loader.start()
        assert not done.wait(1.0)  # the load waits
        alone = [w.copy() for w in build_siamese(config.replace(seed=4)).get_weights()]  # re-entrant
    assert done.wait(60)
    for mine, theirs in zip(build_siamese(config.replace(seed=4)).get_weights(), alone, strict=True):
        assert np.array_equal(mine, theirs)
