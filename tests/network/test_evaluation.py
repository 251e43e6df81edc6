import numpy as np
import pytest

from siamese_core.network import evaluation as E


def test_best_threshold_on_a_hand_made_set():
    # same pairs (1) at 0.1, 0.2, 0.6; different pairs (0) at 0.5, 0.8, 0.9.
    # Cut between 0.2 and 0.5 -> 5/6 right (0.6 wrong); between 0.6 and 0.8 -> 5/6 right
    # (0.5 wrong). Both tie; every other cut is worse. Midpoints: 0.35 and 0.7.
    s = np.array([0.1, 0.2, 0.6, 0.5, 0.8, 0.9])
    y = np.array([1, 1, 1, 0, 0, 0])
    t, acc = E.best_threshold(s, y)
    assert acc == pytest.approx(5 / 6)
    assert t in (pytest.approx(0.35), pytest.approx(0.7))
    assert E.accuracy_at(s, y, t) == pytest.approx(5 / 6)
    # separable set: the threshold lands between the classes
    t2, acc2 = E.best_threshold(np.array([0.1, 0.3, 0.9, 1.2]), np.array([1, 1, 0, 0]))
    assert acc2 == 1.0 and t2 == pytest.approx(0.6)


def test_best_threshold_beats_every_brute_force_threshold(rng):
    s = rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(3 * s))).astype(int)
    _, acc = E.best_threshold(s, y)
    brute = max(E.accuracy_at(s, y, t) for t in np.r_[s - 1e-9, s + 1e-9])
    assert acc == pytest.approx(brute)


def test_confusion_precision_recall_by_hand():
    s = np.array([0.1, 0.2, 0.6, 0.5, 0.8, 0.3])
    y = np.array([1, 1, 1, 0, 0, 0])
    # threshold 0.4: predicted same = 0.1, 0.2, 0.3 -> TP 2, FP 1, FN 1, TN 2
    assert E.confusion(s, y, 0.4).tolist() == [[2, 1], [1, 2]]
    assert E.precision_recall(s, y, 0.4) == (pytest.approx(2 / 3), pytest.approx(2 / 3))


def test_roc_auc_of_a_perfect_and_a_reversed_ranking():
    y = np.array([1, 1, 0, 0])
    assert E.roc_curve(np.array([0.1, 0.2, 0.8, 0.9]), y)[3] == 1.0
    assert E.roc_curve(np.array([0.9, 0.8, 0.2, 0.1]), y)[3] == 0.0


def test_retrieval_metrics_by_hand():
    # points on a line: class 0 at 0, 1; class 1 at 10, 11, 30.
    emb = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]])
    lab = np.array([0, 0, 1, 1, 1])
    m = E.retrieval_metrics(emb, lab)
    # nearest neighbours: 0->1 ok, 1->0 ok, 10->11 ok, 11->10 ok, 30->11 ok: P@1 = 1
    assert m.precision_at_1 == 1.0
    # MAP@R: class 0 queries have R=1, both right: AP 1, 1. For 10 (R=2): neighbours 11 (ok),
    # 1 (wrong, d=9 < 20) -> AP = (1/1)/2 = 0.5. For 11: 10 (ok), 1 (d=10 < 19) -> 0.5.
    # For 30: 11 (ok), 10 (ok) -> AP = (1 + 1)/2 = 1. Mean = (1 + 1 + 0.5 + 0.5 + 1) / 5 = 0.8
    assert m.map_at_r == pytest.approx(0.8)


def test_one_shot_on_a_toy_embedding():
    rng = np.random.default_rng(0)
    centres = np.eye(6) * 10
    lab = np.repeat(np.arange(6), 20)
    tight = centres[lab] + rng.normal(0, 0.1, (120, 6))
    assert E.one_shot_accuracy(tight, lab, n_way=5, trials=200) == 1.0
    noise = rng.normal(0, 1, (120, 6))  # no structure: chance is 1/5
    acc = E.one_shot_accuracy(noise, lab, n_way=5, trials=2000)
    assert 0.15 < acc < 0.25


@pytest.mark.parametrize("seed", range(5))
def test_roc_curve_matches_scikit_learn(seed):
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    rng = np.random.default_rng(seed)
    same = rng.integers(0, 2, 500)
    scores = np.round(rng.random(500) + 0.4 * (same != E.SAME), 2)  # rounded: many ties
    fpr, tpr, thr, auc = E.roc_curve(scores, same)
    truth = same == E.SAME
    sk_fpr, sk_tpr, sk_thr = sk_roc(truth, -scores)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], -sk_thr[1:])
    assert auc == pytest.approx(roc_auc_score(truth, -scores), abs=1e-12)


def test_roc_curve_of_one_class_has_no_auc():
    assert np.isnan(E.roc_curve(np.array([0.1, 0.5]), np.array([E.SAME, E.SAME]))[3])


def test_neighbours_use_the_models_own_distance():
    from siamese_core.network.compare import nearest

    emb = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 2.0]])
    query = np.array([2.0, 0.0])
    # Euclidean: row 0 (1.0) nearest; cosine: rows 0 (0) then 1 (1 - 10/sqrt(101)), then 2 (1)
    idx, dist = nearest(emb, query, 3)
    assert list(idx) == [0, 2, 1] and dist[0] == pytest.approx(1.0)
    idx, dist = nearest(emb, query, 3, metric="cosine")
    assert list(idx) == [0, 1, 2]
    assert dist == pytest.approx([0.0, 1 - 10 / np.sqrt(101), 1.0])


def test_one_shot_of_a_collapsed_embedding_is_chance_not_perfect():
    """Every distance alike: the old code put the true support first and argmin's tie made it 100%."""
    from siamese_core.network.evaluation import one_shot_accuracy

    labels = np.repeat(np.arange(5), 10)
    assert 0.1 <= one_shot_accuracy(np.zeros((50, 4)), labels, n_way=5, trials=1000) <= 0.3


def test_precision_is_undefined_when_nothing_is_called_same():
    # same pairs at 0.1, 0.2, 0.6; different at 0.5, 0.8, 0.3. At 0.05 no score is below the
    # threshold: TP = FP = 0, so precision TP / (TP + FP) = 0 / 0 has no value (not 0%); recall
    # TP / (TP + FN) = 0 / 3 = 0 is a real 0.
    s = np.array([0.1, 0.2, 0.6, 0.5, 0.8, 0.3])
    y = np.array([1, 1, 1, 0, 0, 0])
    assert E.confusion(s, y, 0.05).tolist() == [[3, 0], [3, 0]]
    precision, recall = E.precision_recall(s, y, 0.05)
    assert precision is None and recall == 0.0
    # no truly same pair at all: recall 0 / 0 is undefined too
    precision, recall = E.precision_recall(s[3:], y[3:], 0.4)
    assert precision == 0.0 and recall is None  # 0.3 called same wrongly: 0 / 1


def test_map_at_r_is_undefined_when_no_class_has_a_second_member():
    # one point per class: no query has R >= 1 other member, so there is nothing to average
    m = E.retrieval_metrics(np.array([[0.0], [1.0], [5.0]]), np.array([0, 1, 2]))
    assert m.precision_at_1 == 0.0 and m.map_at_r is None


@pytest.mark.parametrize(
    ("shared", "distance", "branch"),
    [(True, "cosine", "tiny-cnn"), (False, "euclidean", "mlp"), (False, "cosine", "tiny-cnn")],
)
def test_pair_scores_from_embeddings_are_the_whole_models_own(shared, distance, branch, rng):
    """The validation and test scores embed each digit once and apply the model's distance layer:
    the same numbers as running every pair through the model, shared or not (each side through
    its own branch: d(A, B) and d(B, A) differ when unshared)."""
    from siamese_core.config import SiameseConfig
    from siamese_core.network.models import build_siamese

    model = build_siamese(SiameseConfig(shared=shared, distance=distance, branch=branch, embedding_dim=16))
    x = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    i, j = rng.integers(0, 60, 200), rng.integers(0, 60, 200)  # 200 pairs of 60 digits: the fast path
    whole = E.dissimilarity(model, np.asarray(model([x[i], x[j]], training=False)))
    fast = E.pair_scores(model, x, i, j)
    assert fast.shape == (200,)
    np.testing.assert_allclose(fast, whole, rtol=1e-5, atol=1e-5)
    if not shared:
        assert not np.allclose(E.pair_scores(model, x, j, i), fast, atol=1e-3)  # the sides differ
    few = E.pair_scores(model, x, np.array([3]), np.array([4]))  # one pair: the model itself
    np.testing.assert_allclose(few, E.dissimilarity(model, np.asarray(model([x[[3]], x[[4]]]))), atol=1e-6)


def test_models_of_one_architecture_share_one_trace_and_keep_their_own_weights(rng):
    """A student's new model (one the service has just loaded) runs on the trace another model of
    its architecture made: no second trace, and each model's own numbers, exactly those of a
    function traced for it alone (the old way). Another architecture is traced apart."""
    import weakref

    from siamese_core.config import PRESETS
    from siamese_core.network.models import build_siamese, embedding_model
    from siamese_core.network.persistence import model_bytes
    from siamese_core.serving.protocol import load_keras

    config = PRESETS["classroom"]
    first, second = (
        load_keras(model_bytes(build_siamese(config.replace(seed=s)), config, threshold=0.4))
        for s in (11, 12)
    )
    x = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    first_out = np.asarray(E.forward(first)([x[:20], x[20:]]))
    shared = E._shared_forward(first)
    assert shared is E._shared_forward(second) and not shared.refused
    traces = shared._fn.experimental_get_tracing_count()
    assert traces >= 1  # the first model ran on the shared function
    second_out = np.asarray(E.forward(second)([x[:20], x[20:]]))
    assert shared._fn.experimental_get_tracing_count() == traces  # the second model traced nothing
    assert not np.allclose(first_out, second_out)  # two models, two sets of weights
    for model, out in ((first, first_out), (second, second_out)):
        alone = np.asarray(E._own_forward(weakref.ref(model))([x[:20], x[20:]]))
        np.testing.assert_array_equal(out, alone)
        np.testing.assert_array_equal(
            E.embed(model, x), np.asarray(E._own_forward(weakref.ref(embedding_model(model)))(x))
        )
    unshared = build_siamese(config.replace(shared=False))
    assert E._shared_forward(unshared) is not shared


def test_a_layer_with_state_outside_its_variables_and_config_is_not_shared(rng):
    """An adapted ``Normalization`` keeps its statistics as tensors, in neither its variables nor
    its config (a student may upload any Siamese ``.keras`` file): two such models share no
    trace, and each runs with its own statistics (a shared trace gave the second model the
    first one's: the review of this change)."""
    from siamese_core.network._keras import keras

    def model(data):
        normalise = keras.layers.Normalization(name="normalise")
        normalise.adapt(data)
        inp = keras.Input((3,), name="values")
        return keras.Model(inp, normalise(inp), name="normalised")

    x = rng.normal(size=(4, 3)).astype("float32")
    a, b = model(rng.normal(0.0, 1.0, (50, 3))), model(rng.normal(5.0, 3.0, (50, 3)))
    assert E._architecture(a) is None
    for m in (a, b):
        np.testing.assert_allclose(np.asarray(E.forward(m)(x)), np.asarray(m(x)), rtol=1e-5, atol=1e-5)


def test_a_trace_that_keeps_a_variable_of_its_own_is_refused(rng):
    """The second guard: a trace that captured a variable (state Keras does not track) would run
    the first model's state for every model; it is refused (and its models get functions of their
    own)."""
    import tensorflow as tf

    from siamese_core.network._keras import keras

    class Scaled(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            object.__setattr__(self, "untracked", tf.Variable(1.0))  # past Keras's tracking

        def call(self, x):
            return x * self.untracked

    inp = keras.Input((3,), name="values")
    model = keras.Model(inp, Scaled(name="scaled")(keras.layers.Dense(2, name="dense")(inp)))
    shared = E._SharedForward()
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(shared(model, x)), np.asarray(model(x)), rtol=1e-6)
    assert shared.refused
    plain = keras.Model(inp, keras.layers.Dense(2, name="other")(inp))
    other = E._SharedForward()
    other(plain, x)
    assert not other.refused
