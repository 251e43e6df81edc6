"""The composing and transfer posts: composition, partial restore, ranking losses, merging."""

import numpy as np
import pytest

from siamese_core.config import SiameseConfig
from siamese_core.lessons import compose as C
from siamese_core.lessons import ranking as R
from siamese_core.lessons import transfer as T
from siamese_core.network.models import build_siamese, embedding_model

CFG = SiameseConfig(branch="mlp", embedding_dim=16)


@pytest.fixture
def images(small_data):
    return small_data.train.x[:256]


@pytest.mark.parametrize("how", [C.compose_nested, C.compose_layerwise])
def test_composition_shares_variables_and_counts_add_up(how):
    enc = C.copy_model(embedding_model(build_siamese(CFG)))
    dec = C.build_decoder(16)
    composed = how(enc, dec)
    assert C.shares_variables(composed, enc, dec)
    assert composed.count_params() == enc.count_params() + dec.count_params()


def test_joint_training_moves_the_encoder_separate_training_does_not(images):
    for joint in (True, False):
        enc = C.copy_model(embedding_model(build_siamese(CFG)))
        dec = C.build_decoder(16)
        composed = C.compose_layerwise(enc, dec)
        enc_before = [w.copy() for w in enc.get_weights()]
        dec_before = [w.copy() for w in dec.get_weights()]
        losses = C.train_autoencoder(composed, enc, images, epochs=2, joint=joint, batch_size=64)
        enc_changed = any(not np.allclose(a, b) for a, b in zip(enc_before, enc.get_weights()))
        dec_changed = any(not np.allclose(a, b) for a, b in zip(dec_before, dec.get_weights()))
        assert enc_changed is joint and dec_changed
        assert len(losses) == 2 and losses[1] < losses[0]


def test_copy_model_leaves_the_original_alone(images):
    siamese = build_siamese(CFG)
    original = [w.copy() for w in siamese.get_weights()]
    enc = C.copy_model(embedding_model(siamese))
    C.train_autoencoder(C.compose_nested(enc, C.build_decoder(16)), enc, images, epochs=1)
    assert all(np.array_equal(a, b) for a, b in zip(original, siamese.get_weights()))


@pytest.mark.parametrize("shared", [True, False])
def test_restore_all_but_the_head(shared):
    siamese = build_siamese(CFG.replace(shared=shared, seed=3))
    clf = T.build_classifier(CFG)
    head_before = [w.copy() for w in clf.get_layer("logits").get_weights()]
    restored = T.restore_all_but_head(clf, siamese)
    assert restored and not any(name.startswith("logits") for name in restored)
    src = embedding_model(siamese).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(src, clf.get_layer("branch").get_weights()))
    assert all(np.array_equal(a, b) for a, b in zip(head_before, clf.get_layer("logits").get_weights()))


def test_k_shot_experiment_runs_and_reports_every_way(small_data):
    siamese = build_siamese(CFG)
    rows = T.k_shot_experiment(siamese, CFG, small_data, ks=(1,), epochs=2, test_size=100)
    assert len(rows) == 1 and rows[0].labelled == 10
    for way in ("nearest_neighbour", "frozen", "fine_tuned", "scratch"):
        assert 0.0 <= rows[0].accuracy(way) <= 1.0
    assert list(rows[0].as_row()) == [
        "k",
        "labelled digits",
        "nearest neighbour (Siamese embedding)",
        "transferred encoder, frozen",
        "transferred encoder, fine-tuned",
        "from scratch",
    ]


def test_operator_matrix_is_the_seeds():
    seed = [
        [5, 0, 0, 0, 0],
        [-1, 4, 0, 0, 0],
        [-1, -1, 3, 0, 0],
        [-1, -1, -1, 2, 0],
        [-1, -1, -1, -1, 1],
        [-1, -1, -1, -1, -1],
    ]
    assert R.operator_matrix(6).tolist() == seed


def _operator_loop(s, margin):
    g, levels = s.shape
    vals = []
    for row in s:
        for j in range(levels - 1):
            vals.append(max(0.0, margin - sum(row[j] - row[i] for i in range(j + 1, levels))))
    return np.mean(vals)


def _pairwise_loop(s, margin):
    vals = [
        max(0.0, margin - (row[i] - row[j]))
        for row in s
        for i in range(s.shape[1])
        for j in range(i + 1, s.shape[1])
    ]
    return np.mean(vals)


@pytest.mark.parametrize("levels", [2, 3, 6])
def test_vectorised_ranking_losses_equal_explicit_loops(levels, rng):
    s = rng.normal(size=(5, levels)).astype(np.float32)
    for margin in (0.5, 2.0):
        assert float(R.operator_loss(s, margin)) == pytest.approx(_operator_loop(s, margin), rel=1e-5)
        assert float(R.pairwise_loss(s, margin)) == pytest.approx(_pairwise_loop(s, margin), rel=1e-5)


def test_ranking_losses_by_hand():
    # one group, levels scored (3, 1, 0): pairs (0,1): 3-1=2, (0,2): 3, (1,2): 1. margin 1.5:
    # per-pair hinge: max(0, -0.5) + 0 + 0.5 -> 0.5 / 3 pairs
    s = np.array([[3.0, 1.0, 0.0]], np.float32)
    assert float(R.pairwise_loss(s, 1.5)) == pytest.approx(0.5 / 3)
    # operator columns: col0 = (3-1)+(3-0) = 5, col1 = 1-0 = 1 -> hinge (0, 0.5) -> mean 0.25
    assert float(R.operator_loss(s, 1.5)) == pytest.approx(0.25)


def test_a_scorer_learns_to_rank_blur(small_data):
    groups = R.ranking_set(small_data.train.x[:200], levels=4, kind="blur")
    assert groups.shape == (200, 4, 28, 28) and groups.dtype == np.uint8
    model, losses = R.train_scorer(groups, "pairwise", steps=150, groups_per_batch=8)
    assert np.mean(losses[-20:]) < np.mean(losses[:20])
    held = R.ranking_set(small_data.test.x[:100], levels=4, kind="blur")
    assert R.srocc(R.scores_by_level(model, held)) > 0.6


def test_srocc_of_a_perfect_and_a_reversed_scorer():
    perfect = np.tile(-np.arange(6.0), (4, 1))
    assert R.srocc(perfect) == pytest.approx(1.0)
    assert R.srocc(-perfect) == pytest.approx(-1.0)


def test_merge_two_models_keeps_both_sources_weights(images):
    enc_model = build_siamese(CFG.replace(seed=1))
    a = embedding_model(enc_model)
    dec = C.build_decoder(16)
    merged = C.merge_models(a, dec)
    x = images[:8]
    expected = dec.predict_on_batch(a.predict_on_batch(x))
    assert np.allclose(merged.predict_on_batch(x), expected, atol=1e-5)
    names = [v.path for v in merged.weights]
    assert len(names) == len(set(names))
    # every variable lives under its source's scope (Keras 3 fixes paths at creation)
    assert names == [f"from_a/{v.path}" for v in a.weights] + [f"from_b/{v.path}" for v in dec.weights]
    assert "from_a/dense_1/kernel" in names and "from_b/decoder_up_2/bias" in names
    # the copies are independent: training the merged model leaves the sources untouched
    before = [w.copy() for w in a.get_weights()]
    merged.compile("adam", "mse")
    merged.fit(x, x.astype("float32") / 255, epochs=1, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(before, a.get_weights()))


def _rows(nn, frozen, tuned, scratch, k=1):
    return T.KShotRow(k, 10 * k, nn, frozen, tuned, scratch)


def test_the_k_shot_sentence_is_read_off_the_numbers():
    """The page used to say the Siamese features 'already beat' from-scratch whatever was measured."""
    from siamese_core.lessons.transfer import k_shot_conclusion

    won = k_shot_conclusion([_rows(0.62, 0.55, 0.58, 0.31), _rows(0.8, 0.8, 0.85, 0.6, k=10)])
    assert won.startswith(
        "With one label per class, the best use of the Siamese features "
        "(nearest neighbour (Siamese embedding), 62.0%) beats the network trained from scratch (31.0%) "
        "by 31.0 points."
    )
    assert "At k = 10, the best Siamese way minus from scratch is +25.0 points." in won
    lost = k_shot_conclusion([_rows(0.2, 0.25, 0.22, 0.4)])
    assert lost == (
        "With one label per class, the network trained from scratch (40.0%) beats every use of the "
        "Siamese features (best: transferred encoder, frozen, 25.0%)."
    )
    assert "tie at 30.0%" in k_shot_conclusion([_rows(0.3, 0.1, 0.1, 0.3)])


def test_the_operator_terms_of_a_batch_worked_out_by_hand():
    terms = R.operator_terms(np.array([[6.0, 5, 4, 3, 2, 1]]), margin=100.0)
    # column j = (L-1-j) * s_j - sum of the worse scores: 30-15, 20-10, 12-6, 6-3, 2-1
    assert terms.column_sums.tolist() == [[15.0, 10.0, 6.0, 3.0, 1.0]]
    assert terms.hinge.tolist() == [[85.0, 90.0, 94.0, 97.0, 99.0]]
    assert R.POST_SETTING == {"groups_per_batch": 4, "levels": 6, "margin": 100.0}
