"""Feature branches, heads, the weight-sharing switch, and the N-input post's N-input network.

Every model takes uint8 images of shape (28, 28) and scales them inside the graph, so the
data set is held once as uint8 and never copied to float.
"""

from __future__ import annotations

import threading

from siamese_core.config import SiameseConfig
from siamese_core.network._keras import keras, layers, ops

IMAGE_SHAPE = (28, 28)


# ---- custom layers (registered, so .keras files load with safe_mode on) -------------------
@keras.saving.register_keras_serializable(package="siamese_core")
class EuclideanDistance(layers.Layer):
    """||a - b||_2 per row, shape (batch, 1)."""

    def call(self, inputs):
        a, b = inputs
        sum_square = ops.sum(ops.square(a - b), axis=1, keepdims=True)
        # Avoid an infinite gradient of sqrt at 0 when a pair has identical embeddings.
        return ops.sqrt(ops.maximum(sum_square, keras.config.epsilon()))

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)


@keras.saving.register_keras_serializable(package="siamese_core")
class CosineDistance(layers.Layer):
    """1 - cos(a, b) per row, in [0, 2], shape (batch, 1)."""

    def call(self, inputs):
        a, b = inputs
        eps = keras.config.epsilon()
        a = a / ops.sqrt(ops.maximum(ops.sum(ops.square(a), axis=1, keepdims=True), eps))
        b = b / ops.sqrt(ops.maximum(ops.sum(ops.square(b), axis=1, keepdims=True), eps))
        return 1.0 - ops.sum(a * b, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)


# ---- branches ----------------------------------------------------------------------------
def build_branch(kind: str, embedding_dim: int, name: str = "branch", prefix: str = "") -> keras.Model:
    """One feature extractor: uint8 (28, 28) -> float (embedding_dim,)."""
    p = prefix
    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name=f"{p}image")
    x = layers.Rescaling(1.0 / 255, name=f"{p}scale")(inp)
    if kind == "mlp":  # the Keras example's create_base_network
        x = layers.Flatten(name=f"{p}flatten")(x)
        x = layers.Dense(128, activation="relu", name=f"{p}dense_1")(x)
        x = layers.Dropout(0.1, name=f"{p}dropout_1")(x)
        x = layers.Dense(128, activation="relu", name=f"{p}dense_2")(x)
        x = layers.Dropout(0.1, name=f"{p}dropout_2")(x)
        x = layers.Dense(embedding_dim, activation="relu", name=f"{p}embedding")(x)
    elif kind == "cnn":  # small and fast on a 2-core CPU; see BENCHMARKS.md
        x = layers.Reshape((*IMAGE_SHAPE, 1), name=f"{p}channels")(x)
        x = layers.Conv2D(32, 3, activation="relu", name=f"{p}conv_1")(x)
        x = layers.MaxPooling2D(2, name=f"{p}pool_1")(x)
        x = layers.Conv2D(64, 3, activation="relu", name=f"{p}conv_2")(x)
        x = layers.MaxPooling2D(2, name=f"{p}pool_2")(x)
        x = layers.Flatten(name=f"{p}flatten")(x)
        x = layers.Dense(128, activation="relu", name=f"{p}dense")(x)
        x = layers.Dense(embedding_dim, name=f"{p}embedding")(x)
    elif kind == "tiny-cnn":  # two strided convolutions: the classroom preset's CNN (BENCHMARKS.md)
        x = layers.Reshape((*IMAGE_SHAPE, 1), name=f"{p}channels")(x)
        x = layers.Conv2D(16, 5, strides=2, activation="relu", name=f"{p}conv_1")(x)
        x = layers.Conv2D(32, 3, strides=2, activation="relu", name=f"{p}conv_2")(x)
        x = layers.Flatten(name=f"{p}flatten")(x)
        x = layers.Dense(128, activation="relu", name=f"{p}dense")(x)
        x = layers.Dense(embedding_dim, name=f"{p}embedding")(x)
    elif kind == "matchnet":  # the weight-sharing post's feature network, sized for 28x28x1
        x = layers.Reshape((*IMAGE_SHAPE, 1), name=f"{p}channels")(x)
        x = layers.Conv2D(24, 3, padding="same", activation="relu", name=f"{p}conv_1")(x)
        x = layers.MaxPooling2D(3, name=f"{p}pool_1")(x)
        x = layers.Conv2D(64, 3, padding="same", activation="relu", name=f"{p}conv_2")(x)
        x = layers.Conv2D(96, 3, padding="valid", activation="relu", name=f"{p}conv_3")(x)
        x = layers.Conv2D(96, 3, padding="valid", activation="relu", name=f"{p}conv_4")(x)
        x = layers.Flatten(name=f"{p}flatten")(x)
        x = layers.Dense(embedding_dim, activation="relu", name=f"{p}embedding")(x)
    else:
        raise ValueError(f"unknown branch {kind!r}")
    return keras.Model(inp, x, name=name)


# Building or loading a model draws every initialiser's seed from Python's global ``random``, which
# ``build_siamese`` seeds first: a load on a model process's calls thread while its training thread
# built a model shifted that build's draws, and a seed no longer gave the same starting weights (and
# shells.starting_values keeps them for the next trainings). Both hold this lock.
BUILD_LOCK = threading.RLock()


# ---- the Siamese model -------------------------------------------------------------------
def architecture(config: SiameseConfig) -> tuple:
    """What :func:`build_siamese` builds differently by configuration: its layers and their sizes
    (the seed changes only the weights)."""
    c = config
    return (c.branch, c.head, c.distance, c.shared, c.embedding_dim)


def build_siamese(config: SiameseConfig) -> keras.Model:
    """Two inputs, one output.

    - ``shared=True``: ONE branch model, called on both inputs: its weights exist once.
    - ``shared=False``: two independent branch models (``branch_a``, ``branch_b``, layer
      names prefixed ``a_`` / ``b_``): a second copy of every feature weight.

    Output: ``head="distance"`` gives the distance (batch, 1), small = same class;
    ``head="matchnet"`` gives softmax probabilities (batch, 2), column ``SAME`` = same class.
    """
    with BUILD_LOCK:
        keras.utils.set_random_seed(config.seed)
        input_a = keras.Input(IMAGE_SHAPE, dtype="uint8", name="input_a")
        input_b = keras.Input(IMAGE_SHAPE, dtype="uint8", name="input_b")
        if config.shared:
            branch = build_branch(config.branch, config.embedding_dim, name="branch")
            emb_a, emb_b = branch(input_a), branch(input_b)
        else:
            branch_a = build_branch(config.branch, config.embedding_dim, "branch_a", "a_")
            branch_b = build_branch(config.branch, config.embedding_dim, "branch_b", "b_")
            emb_a, emb_b = branch_a(input_a), branch_b(input_b)
        if config.head == "distance":
            layer = EuclideanDistance if config.distance == "euclidean" else CosineDistance
            out = layer(name="distance")([emb_a, emb_b])
        elif config.head == "matchnet":  # the weight-sharing post's decision network
            x = layers.Concatenate(name="head_concat")([emb_a, emb_b])
            x = layers.Dense(1024, activation="relu", name="head_fc_1")(x)
            x = layers.Dense(1024, activation="relu", name="head_fc_2")(x)
            out = layers.Dense(2, activation="softmax", name="match_probability")(x)
        else:
            raise ValueError(f"unknown head {config.head!r}")
        return keras.Model([input_a, input_b], out, name="siamese")


def branches_of(model: keras.Model) -> list[keras.Model]:
    """The feature branch sub-models of a Siamese model, in input order (1 if shared)."""
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def embedding_model(model: keras.Model) -> keras.Model:
    """The branch that embeds input A (the shared branch, or branch A when unshared)."""
    subs = branches_of(model)
    if not subs:
        raise ValueError("not a Siamese model: it has no feature branch sub-model")
    return subs[0]


def head_kind(model: keras.Model) -> str:
    return "matchnet" if model.output.shape[-1] == 2 else "distance"


def embedding_metric(model: keras.Model) -> str:
    """How this model compares two embeddings: "cosine" or "euclidean". The matchnet head
    scores pairs with its own dense layers, not a distance; its embeddings are compared
    with the Euclidean distance (the only distance that head has no opinion on)."""
    return "cosine" if any(isinstance(layer, CosineDistance) for layer in model.layers) else "euclidean"
