import re

import pytest

from siamese_core.config import SiameseConfig
from siamese_core.inspect import generated_code, param_breakdown, to_dot
from siamese_core.models import build_siamese

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
