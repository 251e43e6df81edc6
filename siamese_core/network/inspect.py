"""The numbers and pictures of the Weight-sharing lab, all read off a built Keras model.

``param_breakdown`` sums each component's own weights; because a shared branch is one
object, its weights are counted once, and the total always equals ``model.count_params()``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from siamese_core import i18n
from siamese_core.config import SiameseConfig
from siamese_core.i18n import N_
from siamese_core.results import Breakdown, Component, LabNumbers

if TYPE_CHECKING:  # TensorFlow only where a model is built or run: the web server imports this module
    from siamese_core.network._keras import keras


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
    from siamese_core.network._keras import keras

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


# ---- architecture: the graph, drawn as DOT and told in sentences ---------------------------------
@dataclass(frozen=True)
class GraphLayer:
    """One layer inside a branch sub-model."""

    name: str
    kind: str  # its class's name: Dense, Conv2D, ...
    params: int


@dataclass(frozen=True)
class GraphOp:
    """One operation of the model's graph, with what feeds it: everything the picture and its
    sentences say, read once off the built model (the words are chosen where they are shown)."""

    name: str
    kind: str  # its class's name: InputLayer, Functional, EuclideanDistance, Dense, ...
    params: int
    is_input: bool
    is_model: bool  # a branch sub-model (a box of its own layers)
    layers: tuple[GraphLayer, ...]  # a branch's own layers, inputs left out; () for the others
    calls: tuple[tuple[str, ...], ...]  # per call, the names of the operations feeding it


def graph_of(model: keras.Model) -> tuple[GraphOp, ...]:
    """The model's graph as plain data (``graph_dot`` and ``graph_in_words`` read it)."""
    from siamese_core.network._keras import keras

    ops = []
    for op in model.operations:
        is_model = isinstance(op, keras.Model)
        layers = (
            tuple(
                GraphLayer(layer.name, type(layer).__name__, layer.count_params())
                for layer in op.layers
                if not isinstance(layer, keras.layers.InputLayer)
            )
            if is_model
            else ()
        )
        ops.append(
            GraphOp(
                name=op.name,
                kind=type(op).__name__,
                params=op.count_params() if hasattr(op, "count_params") and op.built else 0,
                is_input=isinstance(op, keras.layers.InputLayer),
                is_model=is_model,
                layers=layers,
                calls=tuple(tuple(call) for call in _sources(model, op)),
            )
        )
    return tuple(ops)


NL = "\\n"  # a line break inside a DOT label


def _q(text: str) -> str:
    return '"' + text.replace('"', r"\"") + '"'


def _layer_rows(op: GraphOp) -> str:
    rows = [
        f"{layer.name} ({layer.kind}){'  ' + format(layer.params, ',') if layer.params else ''}"
        for layer in op.layers
    ]
    return "\\l".join(rows) + "\\l"


# Languages whose sentences follow one another without a space (Chinese ends each with "。").
UNSPACED = frozenset({"zh"})


def _language(language: i18n.Language | None) -> i18n.Language:
    """The language the words are written in: the one given (English for what is computed once
    and cached for everyone), else the caller's (at display time)."""
    return language if language is not None else i18n.current_language()


def graph_dot(graph: tuple[GraphOp, ...], language: i18n.Language | None = None) -> str:
    """Graphviz DOT of the graph: a shared branch is ONE box with two incoming edges."""
    t = i18n.translations(_language(language))
    lines = [
        "digraph siamese {",
        "  rankdir=TB; node [shape=box, style=rounded, fontname=Helvetica, fontsize=11];",
    ]
    for op in graph:
        if op.is_input:
            label = _q(op.name + NL + "28x28 uint8")
            lines.append(f"  {_q(op.name)} [shape=oval, label={label}];")
        elif op.is_model:
            calls = len(op.calls)
            title = t.gettext("{name}: {params:,} params").format(name=op.name, params=op.params)
            if calls > 1:
                title += NL + t.gettext("shared, used {calls}x").format(calls=calls)
            color = "#2e7d32" if calls > 1 else "#1565c0"
            lines.append(
                f'  {_q(op.name)} [label={_q(title + NL + _layer_rows(op))}, color="{color}", penwidth=2];'
            )
        else:
            label = f"{op.name}{NL}{op.kind}"
            if op.params:
                label += NL + t.gettext("{params:,} params").format(params=op.params)
            lines.append(f"  {_q(op.name)} [label={_q(label)}];")
    for op in graph:
        for call in op.calls:
            for src in call:
                lines.append(f"  {_q(src)} -> {_q(op.name)};")
    lines.append("}")
    return "\n".join(lines)


# How a list is said (CLDR's list patterns, as messages): the last two joined by "and", the others
# by a comma. A call list has its own pattern ("once on A and once on B": 一次……，一次……).
AND = N_("{first} and {second}")
AND_THEN = N_("{earlier} and {later}")
COMMA = N_("{first}, {second}")


def _listed(items: list[str], last: str, t: gettext.NullTranslations) -> str:
    said = items[-1]
    for k, item in enumerate(reversed(items[:-1])):
        pattern = t.gettext(last if k == 0 else COMMA)
        fields = ("earlier", "later") if k == 0 and last == AND_THEN else ("first", "second")
        said = pattern.format(**dict(zip(fields, (item, said), strict=True)))
    return said


def graph_in_words(graph: tuple[GraphOp, ...], language: i18n.Language | None = None) -> str:
    """The same graph as ``graph_dot``, in sentences: the architecture picture's text equivalent
    for a screen reader (one sentence per operation, naming what feeds it)."""
    language = _language(language)
    t = i18n.translations(language)

    def inputs(names: tuple[str, ...]) -> str:
        distinct = list(dict.fromkeys(names))
        said = _listed(distinct, AND, t)
        if len(distinct) < len(names):
            return t.gettext("{names} (both its inputs)").format(names=said)
        return said

    sentences = []
    for op in graph:
        if op.is_input:
            sentences.append(t.gettext("{name} is an input: one 28x28 uint8 digit.").format(name=op.name))
            continue
        if op.is_model:
            what = t.gettext("{name} ({kind}, {params:,} parameters; layers {layers})").format(
                name=op.name,
                kind=op.kind,
                params=op.params,
                layers=", ".join(layer.name for layer in op.layers),
            )
        else:
            what = t.gettext("{name} ({kind}, {params:,} parameters)").format(
                name=op.name, kind=op.kind, params=op.params
            )
        if len(op.calls) > 1:
            once = _listed(
                [t.gettext("once on {inputs}").format(inputs=inputs(call)) for call in op.calls], AND_THEN, t
            )
            sentences.append(
                t.ngettext(
                    "{what} is shared: called {calls} time, {once}.",
                    "{what} is shared: called {calls} times, {once}.",
                    len(op.calls),
                ).format(what=what, calls=len(op.calls), once=once)
            )
        elif op.calls:
            sentences.append(
                t.gettext("{what} takes {inputs}.").format(what=what, inputs=inputs(op.calls[0]))
            )
        else:
            sentences.append(t.gettext("{what} takes nothing.").format(what=what))
    return ("" if language in UNSPACED else " ").join(sentences)


def to_dot(model: keras.Model) -> str:
    """Graphviz DOT of the model, in English (``graph_dot`` draws it in the reader's language)."""
    return graph_dot(graph_of(model), i18n.DEFAULT)


def describe_graph(model: keras.Model) -> str:
    """The model's graph in English sentences (``graph_in_words`` in the reader's language)."""
    return graph_in_words(graph_of(model), i18n.DEFAULT)


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
    from siamese_core.network._keras import keras

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
    from siamese_core.network._keras import keras

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
def lab_measure(config: SiameseConfig) -> tuple[LabNumbers, tuple[GraphOp, ...]]:
    """Built once per configuration: the counts, the graph (as data, for the picture and its
    sentences in each reader's language; English in ``LabNumbers``), the code and the two
    embeddings of one digit (equal, to the last bit, when the branch is shared)."""
    from siamese_core.network.data import embedded_digits
    from siamese_core.network.models import build_siamese

    model = build_siamese(config)
    digits, labels = embedded_digits()
    digit = digits[0]
    emb_a, emb_b = branch_embeddings(model, digit)
    graph = graph_of(model)
    numbers = LabNumbers(
        breakdown=param_breakdown(model),
        count_params=model.count_params(),
        dot=graph_dot(graph, i18n.DEFAULT),
        graph_text=graph_in_words(graph, i18n.DEFAULT),
        code=generated_code(config),
        emb_a=emb_a,
        emb_b=emb_b,
        digit=digit,
        digit_label=int(labels[0]),
    )
    return numbers, graph


def lab_numbers(config: SiameseConfig) -> LabNumbers:
    """What the lab shows about one configuration (:func:`lab_measure`), in English."""
    return lab_measure(config)[0]
