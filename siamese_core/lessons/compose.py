"""Connecting two models into one, C = B(A(x)), and merging saved weights.

Two ways to connect an encoder A and a decoder B:
- nesting: call the models, ``decoder(encoder(x))``: C holds A and B as sub-models;
- layer by layer: re-apply A's and B's layers to a new input, as the composing post does.
Either way C owns no new variables: training C moves A's and B's own weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from siamese_core.i18n import N_, _
from siamese_core.lessons import ShownText

if TYPE_CHECKING:  # TensorFlow only where a model is built or run: the web server imports this module
    from siamese_core.network._keras import keras


def copy_model(model: keras.Model, name: str | None = None) -> keras.Model:
    """An independent copy (same architecture and weights), so a lesson never alters the
    student's trained Siamese model."""
    from siamese_core.network._keras import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    if name:
        clone.name = name
    return clone


def build_decoder(embedding_dim: int, name: str = "decoder") -> keras.Model:
    """B: embedding -> Dense -> (7, 7, 32) -> Conv2DTranspose x2 -> (28, 28) in [0, 1]."""
    from siamese_core.network._keras import keras, layers
    from siamese_core.network.models import IMAGE_SHAPE

    inp = keras.Input((embedding_dim,), name=f"{name}_input")
    x = layers.Dense(7 * 7 * 32, activation="relu", name=f"{name}_dense")(inp)
    x = layers.Reshape((7, 7, 32), name=f"{name}_reshape")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu", name=f"{name}_up_1")(x)
    x = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid", name=f"{name}_up_2")(x)
    out = layers.Reshape(IMAGE_SHAPE, name=f"{name}_image")(x)
    return keras.Model(inp, out, name=name)


def compose_nested(encoder: keras.Model, decoder: keras.Model, name: str = "composed_nested") -> keras.Model:
    from siamese_core.network._keras import keras
    from siamese_core.network.models import IMAGE_SHAPE

    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name="image")
    return keras.Model(inp, decoder(encoder(inp)), name=name)


def compose_layerwise(
    encoder: keras.Model, decoder: keras.Model, name: str = "composed_layers"
) -> keras.Model:
    """The composing post's way: take every layer of A, then of B, and call it on the running tensor."""
    from siamese_core.network._keras import keras
    from siamese_core.network.models import IMAGE_SHAPE

    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name="image")
    x = inp
    for layer in [*encoder.layers[1:], *decoder.layers[1:]]:  # [0] is each model's InputLayer
        x = layer(x)
    return keras.Model(inp, x, name=name)


def shares_variables(composed: keras.Model, *parts: keras.Model) -> bool:
    """True when every variable of C is a variable of one of the parts, and back."""
    ids = lambda m: {id(v) for v in m.weights}  # noqa: E731
    return ids(composed) == set().union(*(ids(p) for p in parts))


def train_autoencoder(
    composed,
    encoder,
    images: np.ndarray,
    epochs: int = 3,
    joint: bool = True,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    report=None,
    progress: str = N_("epoch {epoch} of {epochs}"),
) -> list[float]:
    """Train C to reproduce its input. ``joint=False`` freezes the encoder (only B learns).

    Returns the training loss (mean squared error on [0, 1] pixels) per epoch.
    ``report(fraction, message)``, when given, is called at the start of each epoch, with
    ``progress`` (an ``N_()`` msgid with the fields ``epoch`` and ``epochs``) as the message.
    """
    from siamese_core.network._keras import keras

    keras.utils.set_random_seed(seed)
    encoder.trainable = joint
    composed.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    target = images.astype(np.float32) / 255.0
    callbacks = []
    if report is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda epoch, logs: report(
                    epoch / epochs, ShownText(progress, epoch=epoch + 1, epochs=epochs)
                )
            )
        )
    hist = composed.fit(
        images, target, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True, callbacks=callbacks
    )
    encoder.trainable = True
    return [float(v) for v in hist.history["loss"]]


def scoped_copy(model: keras.Model, scope: str) -> keras.Model:
    """A copy of ``model`` whose variables live under ``scope/`` (``scope/dense_1/kernel``).

    Keras 3 fixes a variable's path when the variable is created, so the copy must be
    *built* inside the name scope; entering a scope around a call of an existing model
    changes nothing (its variables already have their paths).
    """
    from siamese_core.network._keras import keras

    with keras.name_scope(scope):
        clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.name = f"{scope}_{model.name}"
    return clone


def merge_models(
    encoder_source: keras.Model, decoder_source: keras.Model, name: str = "merged"
) -> keras.Model:
    """One model from two others' weights: A's encoder then B's decoder, each copied with its
    variables under its own scope (``from_a/...``, ``from_b/...``), so no variable path
    clashes even when both sources used the same layer names, and a saved variable's name
    says which model it came from."""
    from siamese_core.network._keras import keras
    from siamese_core.network.models import IMAGE_SHAPE

    enc = scoped_copy(encoder_source, "from_a")
    dec = scoped_copy(decoder_source, "from_b")
    inp = keras.Input(IMAGE_SHAPE, dtype="uint8", name="image")
    return keras.Model(inp, dec(enc(inp)), name=name)


# the two ways C is trained, as the page names them (translated where shown: _(JOINTLY))
JOINTLY, FROZEN = N_("jointly"), N_("separately (A frozen)")
PROGRESS = {  # each way's progress message, for train_autoencoder
    JOINTLY: N_("C trained jointly: epoch {epoch} of {epochs}"),
    FROZEN: N_("C trained separately (A frozen): epoch {epoch} of {epochs}"),
}


@dataclass(frozen=True)
class AutoencoderRun:
    """One way of training C = B(A(x))."""

    loss: tuple[float, ...]  # per epoch
    moved: float  # the encoder A's largest weight change (0 when it was frozen)
    reconstructions: np.ndarray  # of the test digits, 0..255
    decoder: Any  # the trained decoder B (a keras.Model; .keras bytes between processes)


@dataclass(frozen=True)
class AutoencoderLesson:
    jointly: AutoencoderRun
    frozen: AutoencoderRun

    def ways(self) -> tuple[tuple[str, AutoencoderRun], ...]:
        return ((JOINTLY, self.jointly), (FROZEN, self.frozen))


def autoencoder_lesson(
    report, model: keras.Model, images: np.ndarray, tests: np.ndarray, epochs: int
) -> AutoencoderLesson:
    """The More lessons task "Train C both ways": C = B(A(x)) with A the model's branch, trained
    jointly, then with A frozen. Per way: loss per epoch, A's largest weight change, the
    reconstructions of ``tests`` (0..255) and the trained decoder."""
    from siamese_core.network.models import embedding_model

    runs = []
    for n, joint in enumerate((True, False)):
        name = JOINTLY if joint else FROZEN
        encoder = copy_model(embedding_model(model), "encoder_A")
        decoder = build_decoder(int(encoder.output.shape[-1]), "decoder_B")
        composed = compose_layerwise(encoder, decoder)
        before = [w.copy() for w in encoder.get_weights()]
        losses = train_autoencoder(
            composed,
            encoder,
            images,
            epochs=epochs,
            joint=joint,
            report=lambda f, m, n=n: report((n + f) / 2, m),
            progress=PROGRESS[name],
        )
        moved = max(float(np.abs(p - q).max()) for p, q in zip(before, encoder.get_weights(), strict=True))
        reconstructions = np.asarray(composed.predict(tests, verbose=0)) * 255
        runs.append(AutoencoderRun(tuple(losses), moved, reconstructions, decoder))
    return AutoencoderLesson(*runs)


def reconstruction_sentence(jointly: Sequence[float], frozen: Sequence[float]) -> str:
    """The chart's sentence: each way's MSE after its last epoch, and after its first when there were
    more (one epoch read "0.1878 (from 0.1878)", as if nothing had been learnt)."""
    if len(jointly) == 1:
        return _(
            "Reconstruction MSE after its one epoch: jointly {joint:.4f}; separately (A frozen) {frozen:.4f}."
        ).format(joint=jointly[0], frozen=frozen[0])
    return _(
        "Reconstruction MSE after epoch {last}: jointly {joint_last:.4f} (after epoch 1: {joint_first:.4f}); "
        "separately (A frozen) {frozen_last:.4f} (after epoch 1: {frozen_first:.4f})."
    ).format(
        last=len(jointly),
        joint_last=jointly[-1],
        joint_first=jointly[0],
        frozen_last=frozen[-1],
        frozen_first=frozen[0],
    )
