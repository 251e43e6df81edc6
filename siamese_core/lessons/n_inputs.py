"""The N-input pitfall (the N-input post): a CNN + LSTM over N images, whose layer-building
function, called once per input, gives every input its own copy of the whole CNN stack.

Three builds of the same network, each as a Keras model (:func:`build_multi_input`) and as the
code the Weight-sharing lab shows (``MULTI_INPUT_CODE``): the layers instantiated once (right),
the builder called once inside one ``keras.Model`` (right too), the builder called per input
(the mistake). Their parameter counts for N = 2 … 8 are shipped in ``assets/n_input_counts.json``:
building them takes ~15 s of CPU and 2 GB (up to 57 million parameters), which every server start
paid before. Importing this module imports no TensorFlow (the web server reads the counts);
building does. ``tests/lessons/test_n_inputs.py`` checks the file against freshly built models;
``python -m siamese_core.lessons.n_inputs`` writes it again.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache

from siamese_core import ASSETS

COUNTS_FILE = ASSETS / "n_input_counts.json"
LARGEST_N = 8  # the lab's slider goes up to here


class Build(StrEnum):
    """The three ways the lesson builds the network."""

    REUSED = "reused"  # layers instantiated once, called on every input
    WRAPPED = "wrapped"  # the builder called once inside one keras.Model, that model called on every input
    REBUILT = "rebuilt"  # the builder called once per input: the mistake


# ---- the network, built three ways -------------------------------------------------------------
MULTI_INPUT_SHAPE = (28, 28, 1)


def _multi_stack_layers():
    """The N-input post's stack, instantiated (but not yet called)."""
    from siamese_core.network._keras import layers

    return [
        layers.Conv2D(64, 5, activation="relu", padding="same"),
        layers.Conv2D(128, 4, activation="relu", padding="same"),
        layers.Conv2D(256, 4, activation="relu", padding="same"),
        layers.Conv2D(64, 1, activation="relu", padding="same"),
        layers.MaxPooling2D(2, 2),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Reshape((1, 512)),
    ]


def _apply(stack, x):
    for layer in stack:
        x = layer(x)
    return x


def build_multi_input(n_inputs: int = 6, reuse: bool = True, wrapped: bool = False):
    """The N-input post's network: N images -> shared CNN stack -> concat (N, 512) -> LSTM -> 3 classes.

    ``reuse=True`` instantiates the stack's layers once and calls them on every input (the
    post's fix). ``wrapped=True`` is the other fix: the layer-building function is called once,
    inside one ``keras.Model`` (the stack as a model), and that model is called on every input.
    ``reuse=False`` is the post's mistake: a builder that creates new layers each time it is
    called, so every input gets its own copy of the stack.
    """
    from siamese_core.network._keras import keras, layers

    if not 1 <= n_inputs <= 16:
        raise ValueError("n_inputs must be between 1 and 16")
    inputs = [keras.Input(MULTI_INPUT_SHAPE, name=f"input_{k + 1}") for k in range(n_inputs)]
    if wrapped:
        image = keras.Input(MULTI_INPUT_SHAPE, name="image")
        stack_model = keras.Model(image, _apply(_multi_stack_layers(), image), name="cnn_stack")
        features = [stack_model(x) for x in inputs]
    elif reuse:
        stack = _multi_stack_layers()
        features = [_apply(stack, x) for x in inputs]
    else:
        features = [_apply(_multi_stack_layers(), x) for x in inputs]
    x = layers.Concatenate(axis=1)(features) if n_inputs > 1 else features[0]
    x = layers.LSTM(128, name="lstm")(x)
    out = layers.Dense(3, activation="softmax", name="out")(x)
    kind = "wrapped" if wrapped else "reused" if reuse else "rebuilt"
    return keras.Model(inputs, out, name="multi_input_" + kind)


# ---- the code the lab shows ---------------------------------------------------------------------
# The stack's layers as the lab writes them, once for both shapes of the code below (a list of layer
# objects, and the builder function). tests/lessons/test_n_inputs.py runs each snippet and checks
# that it builds what build_multi_input builds, layer by layer.
_STACK_CODE = (
    'layers.Conv2D(64, 5, activation="relu", padding="same")',
    'layers.Conv2D(128, 4, activation="relu", padding="same")',
    'layers.Conv2D(256, 4, activation="relu", padding="same")',
    'layers.Conv2D(64, 1, activation="relu", padding="same")',
    "layers.MaxPooling2D(2, 2)",
    "layers.Flatten()",
    'layers.Dense(512, activation="relu")',
    "layers.Reshape((1, 512))",
)
_BUILDER = (
    "def create_base_network(x):\n"
    + "".join(f"    x = {layer}(x)\n" for layer in _STACK_CODE[:-1])
    + f"    return {_STACK_CODE[-1]}(x)\n"
)  # the N-input post's layer-building function, in both the wrapped fix and the mistake
MULTI_INPUT_CODE: dict[Build, str] = {
    Build.REUSED: """# Right: instantiate the layers ONCE, then call the same objects on every input.
stack = [
"""
    + "".join(f"    {layer},\n" for layer in _STACK_CODE)
    + """]

def apply(x):
    for layer in stack:
        x = layer(x)
    return x

inputs = [keras.Input((28, 28, 1)) for _ in range(N)]
x = layers.Concatenate(axis=1)([apply(i) for i in inputs])
x = layers.LSTM(128)(x)
model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
""",
    Build.WRAPPED: """# Right too: call the layer-building function ONCE, inside one keras.Model,
# then call that model on every input: one set of weights, like the layers above.
"""
    + _BUILDER
    + """
image = keras.Input((28, 28, 1))
cnn_stack = keras.Model(image, create_base_network(image), name="cnn_stack")

inputs = [keras.Input((28, 28, 1)) for _ in range(N)]
x = layers.Concatenate(axis=1)([cnn_stack(i) for i in inputs])
x = layers.LSTM(128)(x)
model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
""",
    Build.REBUILT: """# Wrong: this function CREATES new layers every time it is called,
# so each input gets its own copy of the whole stack.
"""
    + _BUILDER
    + """
inputs = [keras.Input((28, 28, 1)) for _ in range(N)]
x = layers.Concatenate(axis=1)([create_base_network(i) for i in inputs])
x = layers.LSTM(128)(x)
model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
""",
}


# ---- what the three builds cost, from the built models ------------------------------------------
@dataclass(frozen=True)
class NInputCounts:
    """Parameter counts of the three builds for N inputs, and the parts that explain the ratio:
    the CNN stack (one copy) and the LSTM + output head."""

    inputs: int
    reused: int
    wrapped: int
    rebuilt: int
    stack: int
    head: int

    @property
    def extra(self) -> int:
        """What the mistake adds: N − 1 more copies of the stack."""
        return self.rebuilt - self.reused

    def of(self, build: Build) -> int:
        return getattr(self, build.value)


def measure_counts(n_inputs: int) -> NInputCounts:
    """Every number read from built Keras models (the slow way: what the shipped file holds)."""
    right = build_multi_input(n_inputs, reuse=True).count_params()
    wrapped_model = build_multi_input(n_inputs, wrapped=True)
    stack = wrapped_model.get_layer("cnn_stack").count_params()
    return NInputCounts(
        inputs=n_inputs,
        reused=right,
        wrapped=wrapped_model.count_params(),
        rebuilt=build_multi_input(n_inputs, reuse=False).count_params(),
        stack=stack,
        head=right - stack,
    )


@cache
def shipped_counts() -> dict[int, NInputCounts]:
    """N = 2 … LARGEST_N, as measured and shipped (``COUNTS_FILE``)."""
    table = json.loads(COUNTS_FILE.read_text())
    return {int(n): NInputCounts(**row) for n, row in table.items()}


def counts(n_inputs: int) -> NInputCounts:
    return shipped_counts()[n_inputs]


if __name__ == "__main__":  # python -m siamese_core.lessons.n_inputs: measure and write the file again
    rows = {n: asdict(measure_counts(n)) for n in range(2, LARGEST_N + 1)}
    COUNTS_FILE.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {COUNTS_FILE}", file=sys.stderr)
