import keras
import numpy as np
import pytest
import tensorflow as tf

from siamese_core.config import SiameseConfig
from siamese_core.network.models import branches_of, build_branch, build_siamese


def test_mlp_branch_count_by_hand():
    # Dense 784->128: 784*128 + 128 = 100,480; two Dense 128->128: 2 * 16,512 = 33,024
    assert build_branch("mlp", 128).count_params() == 100_480 + 33_024


@pytest.mark.parametrize("branch", ["mlp", "cnn", "tiny-cnn", "matchnet"])
@pytest.mark.parametrize("head", ["distance", "matchnet"])
def test_unshared_costs_exactly_one_more_branch(branch, head):
    c = SiameseConfig(branch=branch, head=head, embedding_dim=16)
    shared, unshared = build_siamese(c), build_siamese(c.replace(shared=False))
    one_branch = build_branch(branch, 16).count_params()
    assert unshared.count_params() - shared.count_params() == one_branch
    assert len(branches_of(shared)) == 1 and len(branches_of(unshared)) == 2
    names_a = {layer.name for layer in branches_of(unshared)[0].layers}
    names_b = {layer.name for layer in branches_of(unshared)[1].layers}
    assert not names_a & names_b  # distinct layer names


def _train_through_input_a(model, image):
    """One SGD step on a loss that depends only on input A's embedding."""
    branch_a = branches_of(model)[0]
    opt = keras.optimizers.SGD(0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(branch_a(image, training=False))
    grads = tape.gradient(loss, branch_a.trainable_variables)
    opt.apply_gradients(zip(grads, branch_a.trainable_variables))


@pytest.mark.parametrize("shared", [True, False])
def test_an_update_through_input_a_reaches_input_b_only_when_shared(shared):
    model = build_siamese(SiameseConfig(branch="mlp", shared=shared, embedding_dim=8))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (1, 28, 28), dtype=np.uint8)
    zero = np.zeros_like(x)
    before = model.predict_on_batch([zero, x])  # distance of (blank on A, x on B)
    branch_b = branches_of(model)[-1]
    emb_b_before = branch_b.predict_on_batch(x)
    _train_through_input_a(model, x)
    emb_b_after = branch_b.predict_on_batch(x)
    assert np.allclose(emb_b_before, emb_b_after) is (not shared)
    assert not np.allclose(before, model.predict_on_batch([zero, x]))  # A's side moved anyway


def test_shared_branch_gives_equal_embeddings_on_both_inputs():
    model = build_siamese(SiameseConfig(embedding_dim=8))
    x = np.random.default_rng(1).integers(0, 255, (2, 28, 28), dtype=np.uint8)
    assert np.allclose(model.predict_on_batch([x, x]), keras.config.epsilon() ** 0.5, atol=1e-6)
    unshared = build_siamese(SiameseConfig(embedding_dim=8, shared=False))
    assert (unshared.predict_on_batch([x, x]) > 1e-3).all()
