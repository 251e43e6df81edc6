import re

import pytest

from siamese_core.config import SiameseConfig
from siamese_core.network.inspect import generated_code, param_breakdown, to_dot
from siamese_core.network.models import build_siamese

COMBOS = [
    SiameseConfig(branch=b, head=h, shared=s, embedding_dim=16, distance=d)
    for b in ("mlp", "cnn", "tiny-cnn", "matchnet")
    for h in ("distance", "matchnet")
    for s in (True, False)
    for d in (("euclidean", "cosine") if h == "distance" else ("euclidean",))
]


@pytest.mark.parametrize(
    "config", COMBOS, ids=lambda c: f"{c.branch}-{c.head}-{c.distance}-{'shared' if c.shared else 'unshared'}"
)
def test_breakdown_total_equals_keras_and_generated_code_builds_the_same(config):
    model = build_siamese(config)
    b = param_breakdown(model)
    assert b.total == model.count_params() == b.trainable + b.non_trainable
    assert b.shared is config.shared
    ns: dict = {}
    exec(generated_code(config).replace("model.summary()", ""), ns)
    assert ns["model"].count_params() == model.count_params()


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_the_distance_layer_shown_computes_what_the_models_layer_does(distance):
    """The lab's code carries its own copy of the distance layer (a student's file imports only
    keras); it has no weights, so a parameter count cannot tell it apart: compare the numbers."""
    import numpy as np

    from siamese_core.network import models

    ns: dict = {}
    exec(generated_code(SiameseConfig(distance=distance)).replace("model.summary()", ""), ns)
    name = "EuclideanDistance" if distance == "euclidean" else "CosineDistance"
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8)).astype("float32"), rng.normal(size=(5, 8)).astype("float32")
    b[0] = a[0]  # identical embeddings: the epsilon under the square root matters here
    shown = np.asarray(ns[name]()([a, b]))
    ours = np.asarray(getattr(models, name)()([a, b]))
    assert shown.shape == ours.shape == (5, 1)
    np.testing.assert_allclose(shown, ours, rtol=1e-6, atol=1e-7)


def test_breakdown_components():
    shared = param_breakdown(build_siamese(SiameseConfig(head="matchnet", embedding_dim=16)))
    names = [c.name for c in shared.components]
    assert names == ["branch", "head"]
    assert shared.components[0].used_by == ("input_a", "input_b")
    # head by hand: Dense 32->1024, 1024->1024, 1024->2
    assert shared.components[1].total == (32 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 2 + 2)
    unshared = param_breakdown(build_siamese(SiameseConfig(head="matchnet", embedding_dim=16, shared=False)))
    a, b = unshared.components[:2]
    assert (a.name, a.used_by, b.name, b.used_by) == ("branch_a", ("input_a",), "branch_b", ("input_b",))
    assert a.object_id != b.object_id
    assert unshared.total - shared.total == shared.branch


def test_dot_draws_a_shared_branch_once_with_two_inputs():
    dot = to_dot(build_siamese(SiameseConfig()))
    assert dot.count('"input_a" -> "branch"') == 1 and dot.count('"input_b" -> "branch"') == 1
    assert "shared, used 2x" in dot
    assert len(re.findall(r'^\s*"branch\w*" \[', dot, re.M)) == 1
    dot2 = to_dot(build_siamese(SiameseConfig(shared=False)))
    assert '"input_a" -> "branch_a"' in dot2 and '"input_b" -> "branch_b"' in dot2
    assert len(re.findall(r'^\s*"branch\w*" \[', dot2, re.M)) == 2
    assert dot2.startswith("digraph") and dot2.rstrip().endswith("}")


# ---- inside the twins (Compare) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("branch", "shapes"),
    [
        ("mlp", [(128,), (128,), (16,)]),
        ("cnn", [(26, 26, 32), (11, 11, 64), (128,), (16,)]),  # 3x3 valid, pool 2, 3x3 valid
        ("tiny-cnn", [(12, 12, 16), (5, 5, 32), (128,), (16,)]),  # 5x5 stride 2, 3x3 stride 2
    ],
)
def test_the_twins_apply_the_same_weights_when_shared_and_not_when_unshared(branch, shapes):
    import numpy as np

    from siamese_core.network.inspect import branch_activations, branch_embeddings, branch_of_input

    digit = (np.random.default_rng(3).random((28, 28)) * 255).astype(np.uint8)
    for shared in (True, False):
        model = build_siamese(SiameseConfig(branch=branch, embedding_dim=16, shared=shared))
        through_a, through_b = branch_activations(model, digit, 0), branch_activations(model, digit, 1)
        assert [a.values.shape for a in through_a] == shapes
        assert [a.is_map for a in through_a] == [len(s) == 3 for s in shapes]
        # the last activation is the embedding the branch itself outputs
        emb_a, emb_b = branch_embeddings(model, digit)
        assert np.allclose(through_a[-1].values, emb_a, atol=1e-6) and np.allclose(
            through_b[-1].values, emb_b, atol=1e-6
        )
        same = all(np.array_equal(a.values, b.values) for a, b in zip(through_a, through_b, strict=True))
        assert (
            same is shared
        )  # one branch object: equal to the last bit; two: different weights, different numbers
        assert (branch_of_input(model, 0) is branch_of_input(model, 1)) is shared
        assert [a.layer for a in through_a] == [b.layer for b in through_b]  # a_/b_ prefixes dropped
