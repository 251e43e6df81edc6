"""What the pages ask of a model that no single core function answers: small compositions of the
core's functions, run in the model service (``siamese_core.tasks.ModelCall``) so that the web
server never builds or runs a Keras model. Each takes Keras models as arguments (the service
resolves the pages' handles) and returns plain data, or a Keras model that comes back as a new
handle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _quiet(_fraction: float, _text: str, _state=None) -> None:
    """A progress callback for a task function run as a call (nobody watches its progress)."""


# ---- the loss panel -------------------------------------------------------------------------------------------
def loss_curves(margin: float, top: float | None = None, points: int = 201):
    """(d, loss of a same pair, loss of a different pair) over 0 … ``top`` (default 2·margin,
    at least 1.5), from the training loss itself."""
    from siamese_core.config import DIFFERENT, SAME
    from siamese_core.network.losses import contrastive_per_pair

    top = top if top is not None else max(2.0 * margin, 1.5)
    d = np.linspace(0.0, top, points, dtype=np.float32)[:, None]
    same = np.asarray(contrastive_per_pair(np.full_like(d, SAME), d, margin))[:, 0]
    different = np.asarray(contrastive_per_pair(np.full_like(d, DIFFERENT), d, margin))[:, 0]
    return d[:, 0], same, different


# ---- the pretrained model's figures (the warm-up) ---------------------------------------------------------------
def pretrained_figures(data, n_points: int = 1000):
    """:func:`siamese_core.network.evaluation.pretrained_figures`, as a call."""
    from siamese_core.network.evaluation import pretrained_figures as figures

    return figures(_quiet, data, n_points)


# ---- More lessons -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Composition:
    """The composing tab's counts: A (the model's branch, copied), B (a fresh decoder), and C built
    both ways; ``shared``: C's variables are exactly A's and B's, both ways."""

    encoder: int
    decoder: int
    nested: int
    layered: int
    shared: bool


def composition(model) -> Composition:
    from siamese_core.lessons.compose import (
        build_decoder,
        compose_layerwise,
        compose_nested,
        copy_model,
        shares_variables,
    )
    from siamese_core.network.models import embedding_model

    encoder = copy_model(embedding_model(model), "encoder_A")
    decoder = build_decoder(int(encoder.output.shape[-1]), "decoder_B")
    nested, layered = compose_nested(encoder, decoder), compose_layerwise(encoder, decoder)
    same = shares_variables(nested, encoder, decoder) and shares_variables(layered, encoder, decoder)
    return Composition(
        encoder.count_params(), decoder.count_params(), nested.count_params(), layered.count_params(), same
    )


def restored_names(model, config) -> list[str]:
    """The variables a fresh classifier takes from the Siamese model by name (transfer tab)."""
    from siamese_core.lessons.transfer import build_classifier, restore_all_but_head

    return restore_all_but_head(build_classifier(config), model)


@dataclass(frozen=True)
class Merged:
    """The merge: its parameters, its variables' paths, and what it draws for ``images``."""

    parameters: int
    paths: tuple[str, ...]
    output: np.ndarray  # (n, 28, 28) in 0 … 1


def merged(model, decoder, images: np.ndarray) -> Merged:
    from siamese_core.lessons.compose import merge_models
    from siamese_core.network.models import embedding_model

    model = merge_models(embedding_model(model), decoder)
    return Merged(
        int(model.count_params()),
        tuple(v.path for v in model.weights),
        np.asarray(model.predict(images, verbose=0)),
    )


def download(
    model, kind: str, config=None, threshold: float | None = None, dataset: str | None = None
) -> bytes:
    """The model as a file: ``keras`` (with its settings), ``h5`` (weights) or ``npz`` (every
    variable by name)."""
    from siamese_core.network.persistence import model_bytes, weights_npz

    if kind == "keras":
        return model_bytes(model, config, threshold=threshold, dataset=dataset)
    if kind == "npz":
        return weights_npz(model)
    if kind == "h5":
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.weights.h5"
            model.save_weights(path)
            return path.read_bytes()
    raise ValueError(f"no such download: {kind}")


def one_shot_on(model, data, n_way: int, trials: int = 200, classes: tuple[int, ...] | None = None) -> float:
    """:func:`siamese_core.lessons.oneshot.one_shot_digits` on a data set's test digits."""
    from siamese_core.lessons.oneshot import one_shot_digits

    return one_shot_digits(model, data.test.x, data.test.y, n_way, trials=trials, classes=classes)
