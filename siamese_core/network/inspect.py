"""The numbers and pictures of the Weight-sharing lab, all read off a built Keras model.

``param_breakdown`` sums each component's own weights; because a shared branch is one
object, its weights are counted once, and the total always equals ``model.count_params()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siamese_core.config import SiameseConfig
from siamese_core.network._keras import keras
from siamese_core.results import Breakdown, Component, LabNumbers


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def _sources(model: keras.Model, op) -> list[list[str]]:
    """For each call of ``op`` inside ``model``, the names of the operations feeding it."""
    names = {o.name for o in model.operations}
    calls = []
    for node in op._inbound_nodes:
        srcs = [t._keras_history.operation.name for t in node.input_tensors]
        if srcs and all(s in names for s in srcs):
            calls.append(srcs)
    return calls


def param_breakdown(model: keras.Model) -> Breakdown:
    """Parameters per component (each branch, then everything else as the head)."""
    comps = []
    head_t = head_n = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            used_by = tuple(s for call in _sources(model, layer) for s in call)
            comps.append(
                Component(
                    layer.name,
                    "branch",
                    _count(layer.trainable_weights),
                    _count(layer.non_trainable_weights),
                    used_by,
                    id(layer),
                )
            )
        else:
            head_t += _count(layer.trainable_weights)
            head_n += _count(layer.non_trainable_weights)
    comps.append(Component("head", "head", head_t, head_n, (), id(model)))
    total = sum(c.total for c in comps)
    branches = [c for c in comps if c.role == "branch"]
    return Breakdown(
        components=tuple(comps),
        total=total,
        trainable=sum(c.trainable for c in comps),
        non_trainable=sum(c.non_trainable for c in comps),
        shared=len(branches) == 1 and len(branches[0].used_by) > 1,
    )


# ---- architecture as DOT ------------------------------------------------------------------
NL = "\\n"  # a line break inside a DOT label


def _q(text: str) -> str:
    return '"' + text.replace('"', r"\"") + '"'


def _layer_rows(sub: keras.Model) -> str:
    rows = []
    for layer in sub.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        n = layer.count_params()
        rows.append(f"{layer.name} ({type(layer).__name__}){'  ' + format(n, ',') if n else ''}")
    return "\\l".join(rows) + "\\l"


def to_dot(model: keras.Model) -> str:
    """Graphviz DOT of the model: a shared branch is ONE box with two incoming edges."""
    lines = [
        "digraph siamese {",
        "  rankdir=TB; node [shape=box, style=rounded, fontname=Helvetica, fontsize=11];",
    ]
    for op in model.operations:
        n = op.count_params() if hasattr(op, "count_params") and op.built else 0
        if isinstance(op, keras.layers.InputLayer):
            label = _q(op.name + NL + "28x28 uint8")
            lines.append(f"  {_q(op.name)} [shape=oval, label={label}];")
        elif isinstance(op, keras.Model):
            calls = len(_sources(model, op))
            title = f"{op.name}: {n:,} params" + (f"\\nshared, used {calls}x" if calls > 1 else "")
            color = "#2e7d32" if calls > 1 else "#1565c0"
            lines.append(
                f'  {_q(op.name)} [label={_q(title + NL + _layer_rows(op))}, color="{color}", penwidth=2];'
            )
        else:
            label = f"{op.name}\\n{type(op).__name__}" + (f"\\n{n:,} params" if n else "")
            lines.append(f"  {_q(op.name)} [label={_q(label)}];")
    for op in model.operations:
        for call in _sources(model, op):
            for src in call:
                lines.append(f"  {_q(src)} -> {_q(op.name)};")
    lines.append("}")
    return "\n".join(lines)


def describe_graph(model: keras.Model) -> str:
    """The same graph as ``to_dot``, in sentences: the architecture picture's text equivalent for
    a screen reader (one sentence per operation, naming what feeds it)."""

    def inputs(names: list[str]) -> str:
        distinct = list(dict.fromkeys(names))
        said = " and ".join(distinct)
        return said + (" (both its inputs)" if len(distinct) < len(names) else "")

    sentences = []
    for op in model.operations:
        n = op.count_params() if hasattr(op, "count_params") and op.built else 0
        if isinstance(op, keras.layers.InputLayer):
            sentences.append(f"{op.name} is an input: one 28x28 uint8 digit.")
            continue
        calls = _sources(model, op)
        what = f"{op.name} ({type(op).__name__}, {n:,} parameters"
        if isinstance(op, keras.Model):
            layers = [layer.name for layer in op.layers if not isinstance(layer, keras.layers.InputLayer)]
            what += f"; layers {', '.join(layers)}"
        what += ")"
        if len(calls) > 1:
            once = " and once on ".join(inputs(call) for call in calls)
            sentences.append(f"{what} is shared: called {len(calls)} times, once on {once}.")
        else:
            sentences.append(f"{what} takes {inputs(calls[0]) if calls else 'nothing'}.")
    return " ".join(sentences)


# ---- generated Keras code -------------------------------------------------------------------
_BRANCH_CODE = {
    "mlp": """    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense({dim}, activation="relu")(x)""",
    "cnn": """    x = layers.Reshape((28, 28, 1))(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dense({dim})(x)""",
    "tiny-cnn": """    x = layers.Reshape((28, 28, 1))(x)
    x = layers.Conv2D(16, 5, strides=2, activation="relu")(x)
    x = layers.Conv2D(32, 3, strides=2, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dense({dim})(x)""",
    "matchnet": """    x = layers.Reshape((28, 28, 1))(x)
    x = layers.Conv2D(24, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(96, 3, padding="valid", activation="relu")(x)
    x = layers.Conv2D(96, 3, padding="valid", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense({dim}, activation="relu")(x)""",
}

_DISTANCE_CODE = {
    "euclidean": '''class EuclideanDistance(layers.Layer):
    """A small layer instead of Lambda, so the model can be saved and loaded safely."""

    def call(self, inputs):
        a, b = inputs
        s = ops.sum(ops.square(a - b), axis=1, keepdims=True)
        return ops.sqrt(ops.maximum(s, keras.config.epsilon()))
''',
    "cosine": '''class CosineDistance(layers.Layer):
    """1 - cos(a, b): a small layer instead of Lambda, so the model can be saved safely."""

    def call(self, inputs):
        a, b = inputs
        eps = keras.config.epsilon()
        a = a / ops.sqrt(ops.maximum(ops.sum(ops.square(a), axis=1, keepdims=True), eps))
        b = b / ops.sqrt(ops.maximum(ops.sum(ops.square(b), axis=1, keepdims=True), eps))
        return 1.0 - ops.sum(a * b, axis=1, keepdims=True)
''',
}


def generated_code(config: SiameseConfig) -> str:
    """Standalone Keras functional-API code building the same architecture."""
    parts = [
        "import keras",
        "from keras import layers, ops",
        "",
        "",
        "def feature_branch(name):",
        '    inp = keras.Input((28, 28), dtype="uint8")',
        "    x = layers.Rescaling(1.0 / 255)(inp)",
        _BRANCH_CODE[config.branch].format(dim=config.embedding_dim),
        "    return keras.Model(inp, x, name=name)",
        "",
        "",
    ]
    if config.head == "distance":
        parts += [_DISTANCE_CODE[config.distance], ""]
    parts += [
        'input_a = keras.Input((28, 28), dtype="uint8", name="input_a")',
        'input_b = keras.Input((28, 28), dtype="uint8", name="input_b")',
    ]
    if config.shared:
        parts += [
            "# ONE branch model, called twice: both inputs go through the same weights.",
            'branch = feature_branch("branch")',
            "emb_a = branch(input_a)",
            "emb_b = branch(input_b)",
        ]
    else:
        parts += [
            "# TWO branch models: each input gets its own copy of every weight.",
            'emb_a = feature_branch("branch_a")(input_a)',
            'emb_b = feature_branch("branch_b")(input_b)',
        ]
    if config.head == "distance":
        layer = "EuclideanDistance" if config.distance == "euclidean" else "CosineDistance"
        parts += [f"out = {layer}()([emb_a, emb_b])"]
    else:
        parts += [
            "x = layers.Concatenate()([emb_a, emb_b])",
            'x = layers.Dense(1024, activation="relu")(x)',
            'x = layers.Dense(1024, activation="relu")(x)',
            'out = layers.Dense(2, activation="softmax")(x)',
        ]
    parts += [
        'model = keras.Model([input_a, input_b], out, name="siamese")',
        "model.summary()",
    ]
    return "\n".join(parts) + "\n"


# ---- proofs and comparisons the lab shows ------------------------------------------------------
def branch_of_input(model: keras.Model, side: int) -> keras.Model:
    """The branch sub-model that embeds input A (``side`` 0) or input B (1): the same object
    for both when the weights are shared."""
    by_input = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            for call in _sources(model, layer):
                for src in call:
                    by_input[src] = layer
    return by_input[model.inputs[side]._keras_history.operation.name]


def branch_embeddings(model: keras.Model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Embed one uint8 (28, 28) image through the branch of input A and that of input B.

    Equal when the branch is shared (one object), different when there are two branches
    (their weights were initialised independently).
    """
    x = image[None]
    return (
        np.asarray(branch_of_input(model, 0).predict_on_batch(x))[0],
        np.asarray(branch_of_input(model, 1).predict_on_batch(x))[0],
    )


@dataclass(frozen=True)
class Activation:
    """One layer's output for one digit inside a branch."""

    layer: str  # the layer's name without the unshared branches' a_ / b_ prefix
    values: np.ndarray  # (height, width, channels) feature maps, or (units,) for a dense layer

    @property
    def is_map(self) -> bool:
        return self.values.ndim == 3


def branch_activations(model: keras.Model, image: np.ndarray, side: int) -> list[Activation]:
    """What the branch of input A (``side`` 0) or B (1) computes for one uint8 (28, 28) digit:
    every convolution's feature maps and every dense layer's activations, the embedding last.
    Read from the real branch's own layers (their outputs, in one forward pass)."""
    branch = branch_of_input(model, side)
    wanted = [layer for layer in branch.layers if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)]
    probe = keras.Model(branch.inputs[0], [layer.output for layer in wanted])
    outputs = probe(image[None], training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return [
        Activation(layer.name.removeprefix("a_").removeprefix("b_"), np.asarray(out)[0])
        for layer, out in zip(wanted, outputs, strict=True)
    ]


# ---- everything the lab shows about one configuration ------------------------------------------
def lab_numbers(config: SiameseConfig) -> LabNumbers:
    """Built once per configuration: the counts, the graph, the code and the two embeddings of
    one digit (equal, to the last bit, when the branch is shared)."""
    from siamese_core.network.data import embedded_digits
    from siamese_core.network.models import build_siamese

    model = build_siamese(config)
    digits, labels = embedded_digits()
    digit = digits[0]
    emb_a, emb_b = branch_embeddings(model, digit)
    return LabNumbers(
        breakdown=param_breakdown(model),
        count_params=model.count_params(),
        dot=to_dot(model),
        graph_text=describe_graph(model),
        code=generated_code(config),
        emb_a=emb_a,
        emb_b=emb_b,
        digit=digit,
        digit_label=int(labels[0]),
    )
