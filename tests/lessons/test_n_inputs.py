"""The N-input pitfall: the three builds' parameter counts worked out by hand, and the shipped
table (what the Weight-sharing lab shows) against freshly built networks."""

import dataclasses
import json

import pytest

from siamese_core.lessons.n_inputs import (
    COUNTS_FILE,
    LARGEST_N,
    MULTI_INPUT_CODE,
    Build,
    build_multi_input,
    measure_counts,
    shipped_counts,
)

STACK = 1_664 + 131_200 + 524_544 + 16_448 + 6_423_040  # conv1..conv4, dense 12544->512
LSTM_AND_OUT = 4 * (128 * (512 + 128) + 128) + (128 * 3 + 3)


@pytest.mark.parametrize("n", [2, 6])
def test_the_n_input_posts_counts_by_hand(n):
    assert build_multi_input(n, reuse=True).count_params() == STACK + LSTM_AND_OUT
    assert build_multi_input(n, reuse=False).count_params() == n * STACK + LSTM_AND_OUT
    # the other fix: the builder called once inside one keras.Model, that model called N times
    wrapped = build_multi_input(n, wrapped=True)
    assert wrapped.count_params() == STACK + LSTM_AND_OUT
    assert wrapped.get_layer("cnn_stack").count_params() == STACK


def test_the_shipped_table_is_what_the_built_networks_count():
    """N = 2 and 3 built now; every other N follows from them, since the mistake adds one stack
    per input and the right builds add nothing (checked by hand above)."""
    table = shipped_counts()
    assert sorted(table) == list(range(2, LARGEST_N + 1))
    two, three = measure_counts(2), measure_counts(3)
    assert table[2] == two and table[3] == three
    for n, row in table.items():
        expected = dataclasses.replace(
            two, inputs=n, rebuilt=two.rebuilt + (n - 2) * (three.rebuilt - two.rebuilt)
        )
        assert row == expected, n
    assert json.loads(COUNTS_FILE.read_text())["2"] == dataclasses.asdict(two)


def test_the_ratio_stays_below_n_because_the_head_is_built_once():
    for n, counts in shipped_counts().items():
        assert (counts.stack, counts.head) == (STACK, LSTM_AND_OUT)
        assert counts.reused == counts.wrapped == counts.stack + counts.head
        assert counts.rebuilt == n * counts.stack + counts.head and counts.extra == (n - 1) * STACK
        ratio = counts.rebuilt / counts.reused
        assert ratio == (n * STACK + LSTM_AND_OUT) / (STACK + LSTM_AND_OUT) and n - 1 < ratio < n


def test_the_code_shown_for_each_build_is_that_build():
    assert set(MULTI_INPUT_CODE) == set(Build)
    assert "create_base_network" not in MULTI_INPUT_CODE[Build.REUSED]
    assert "cnn_stack(i) for i in inputs" in MULTI_INPUT_CODE[Build.WRAPPED]
    assert "create_base_network(i) for i in inputs" in MULTI_INPUT_CODE[Build.REBUILT]


def layer_signature(model) -> list[tuple[str, dict]]:
    """Every layer of ``model`` (a nested model's layers in its place), by class and configuration,
    its name left out: the displayed code names nothing, the built models name their inputs."""
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers"):  # the wrapped build's cnn_stack
            rows += [("Model", {})] + layer_signature(layer)
        else:
            config = {key: value for key, value in layer.get_config().items() if key != "name"}
            rows.append((type(layer).__name__, config))
    return rows


@pytest.mark.parametrize("build", list(Build))
def test_the_code_shown_builds_the_same_layers_as_the_lesson(build):
    """The lab shows MULTI_INPUT_CODE and counts build_multi_input: run the code a student would
    copy, and compare it with the built network layer by layer (same kinds, same settings, the same
    number of distinct layers, so the same sharing) and by parameter count."""
    from siamese_core.network._keras import keras, layers

    namespace = {"keras": keras, "layers": layers, "N": 2}
    exec(MULTI_INPUT_CODE[build], namespace)
    shown = namespace["model"]
    built = build_multi_input(2, reuse=build != Build.REBUILT, wrapped=build == Build.WRAPPED)
    assert layer_signature(shown) == layer_signature(built)
    assert shown.count_params() == built.count_params()
