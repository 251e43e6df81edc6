"""Saving and loading Siamese models safely.

- ``.keras`` files load with ``safe_mode=True`` (kept on: a Lambda layer is arbitrary
  code, and Keras refuses it). Our distance layers are registered classes, not Lambdas.
- Every variable by name as ``.npz`` (the transfer post's "save every variable by name"), loaded
  back with ``allow_pickle=False``: nothing a user sends is ever unpickled.
- Lab metadata (config, calibrated threshold, data set) rides inside the ``.keras`` zip as
  ``siamese_lab.json``; Keras ignores files it does not know.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from siamese_core import ASSETS
from siamese_core.config import SiameseConfig
from siamese_core.i18n import N_, _

META_NAME = "siamese_lab.json"
DEFAULT_MODEL = ASSETS / "default.keras"
MAX_MODEL_BYTES = 50 * 1024 * 1024


class ModelProblem(ValueError):
    """A model file that cannot be used; the message is meant for the user.

    It is an English message marked with ``N_()`` and its named fields, put into the reader's
    language when it is read (``str(problem)`` on a page's script run: siamese_core/i18n.py), so it
    reads in the language of whoever sees it (English in the CLI and logs).
    """

    def __init__(self, message: str, **fields) -> None:
        super().__init__(message)
        self.message, self.fields = message, fields

    def __str__(self) -> str:
        return _(self.message).format(**self.fields)


# An uncompiled model of each architecture saved lately, reused to write the next one's file: building
# it took about half of a classroom model's save (~60 of ~120 ms of CPU), once per training in a
# class of 30 (BENCHMARKS.md, "The web server on one core, less CPU a training and a page"). Its
# architecture is all its file says of it besides the weights (config.json is the same for every
# seed: tests/network/test_persistence.py).
_CLEAN_COPIES: dict[tuple, Any] = {}
_CLEAN_COPIES_KEPT = 4
_CLEAN_LOCK = threading.Lock()


def save_model(model, path: str | os.PathLike, config: SiameseConfig | None = None, **meta) -> None:
    """Save ``model`` as .keras (weights only from training: no optimizer state) + metadata."""
    from siamese_core.network._keras import keras
    from siamese_core.network.models import architecture, build_siamese

    path = Path(path)
    if config is None:
        model.save(path)
    else:  # an uncompiled copy with the model's weights keeps the file small and portable
        key = architecture(config)
        with _CLEAN_LOCK:
            clean = _CLEAN_COPIES.pop(key, None) or build_siamese(config)
            _CLEAN_COPIES[key] = clean  # the most recent last
            while len(_CLEAN_COPIES) > _CLEAN_COPIES_KEPT:
                _CLEAN_COPIES.pop(next(iter(_CLEAN_COPIES)))
            clean.set_weights(model.get_weights())
            clean.save(path)
    info = {"config": _config_dict(config), **meta, "keras_version": keras.__version__}
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(META_NAME, json.dumps(info, indent=1, default=str))


def model_bytes(model, config: SiameseConfig | None = None, **meta) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "model.keras"
        save_model(model, p, config, **meta)
        return p.read_bytes()


def _config_dict(config):
    if config is None:
        return None
    d = asdict(config)
    d["held_out_classes"] = list(config.held_out_classes)
    return d


def read_meta(path: str | os.PathLike) -> dict:
    try:
        with zipfile.ZipFile(path) as z:
            if META_NAME in z.namelist():
                return json.loads(z.read(META_NAME))
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError):
        pass
    return {}


def config_from_meta(meta: dict) -> SiameseConfig | None:
    raw = meta.get("config")
    if not raw:
        return None
    try:
        raw = {**raw, "held_out_classes": tuple(raw.get("held_out_classes", ()))}
        return SiameseConfig(**raw)
    except (TypeError, ValueError):
        return None


def load_model(path: str | os.PathLike):
    """Load a .keras Siamese model with safe_mode on. Returns (model, metadata).

    Raises ModelProblem with a clear sentence for a corrupt file, a file with a Lambda
    layer, or a model that is not a two-input Siamese network on 28x28 images.
    """
    from siamese_core.network import (
        losses,  # noqa: F401  (registers the custom classes)
        models,  # noqa: F401  (registers the custom classes)
    )
    from siamese_core.network._keras import keras
    from siamese_core.network.models import BUILD_LOCK

    path = Path(path)
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise too_large()
    if not zipfile.is_zipfile(path):
        raise ModelProblem(N_("This is not a .keras model file (it is not a valid zip archive)."))
    try:
        with BUILD_LOCK:  # its layers draw seeds from Python's random: see models.BUILD_LOCK
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        text = str(exc)
        if "Lambda" in text or "safe_mode" in text or "lambda" in text:
            raise ModelProblem(
                N_(
                    "This model contains a Lambda layer (arbitrary Python code). It was refused: "
                    "models are loaded with safe_mode on. Rebuild it with a registered custom layer."
                )
            ) from exc
        raise ModelProblem(
            N_("The model file could not be loaded ({error})."), error=type(exc).__name__
        ) from exc
    check_siamese(model)
    return model, read_meta(path)


def too_large() -> ModelProblem:
    return ModelProblem(
        N_("The model file is larger than {megabytes} MB."), megabytes=MAX_MODEL_BYTES // 2**20
    )


def load_model_bytes(data: bytes):
    """Load an uploaded model; the bytes go to a private temporary directory only."""
    if len(data) > MAX_MODEL_BYTES:
        raise too_large()
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "upload.keras"
        p.write_bytes(data)
        return load_model(p)


def check_siamese(model) -> None:
    from siamese_core.network._keras import keras

    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    ok = (
        len(inputs) == 2
        and all(tuple(t.shape[1:]) == (28, 28) for t in inputs)
        and tuple(model.output.shape[1:]) in ((1,), (2,))
        and any(isinstance(layer, keras.Model) for layer in model.layers)
    )
    if not ok:
        shapes = [tuple(t.shape) for t in inputs]
        raise ModelProblem(
            N_(
                "This is not a Siamese model of this lab: it needs two 28x28 inputs, a feature "
                "branch sub-model and one distance (or 2-way) output; it has inputs {inputs} and "
                "output {output}."
            ),
            inputs=shapes,
            output=tuple(model.output.shape),
        )


def load_default():
    """The pretrained default model shipped with the package, and its metadata."""
    return load_model(DEFAULT_MODEL)


# ---- every variable by name ----------------------------------------------------------------
def named_variables(model) -> dict:
    """Every variable once, named ``<sub-model>/<layer>/<variable>`` for layers inside a
    branch (``branch/dense_1/kernel``) and ``<layer>/<variable>`` for the head's own."""
    from siamese_core.network._keras import keras

    out = {}
    for layer in model.layers:
        prefix = layer.name + "/" if isinstance(layer, keras.Model) else ""
        for v in layer.weights:
            out[prefix + v.path] = v
    return out


def weights_npz(model) -> bytes:
    """All variables as one .npz, keyed by :func:`named_variables` (the transfer post)."""
    arrays = {name: np.asarray(v.numpy()) for name, v in named_variables(model).items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def load_weights_npz(model, data: bytes, skip: tuple[str, ...] = ()) -> list[str]:
    """Assign every variable found by name (except paths starting with ``skip``).

    Returns the paths assigned. Shapes are checked before anything is changed, so a wrong
    file leaves the model untouched.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelProblem(N_("This is not a weights .npz file that can be read safely.")) from exc
    plan = []
    for name, v in named_variables(model).items():
        if name in arrays and not name.startswith(skip):
            if tuple(arrays[name].shape) != tuple(v.shape):
                raise ModelProblem(
                    N_(
                        "Weight {name} has shape {file_shape} in the file but {model_shape} in the "
                        "model: the architectures differ."
                    ),
                    name=name,
                    file_shape=arrays[name].shape,
                    model_shape=tuple(v.shape),
                )
            plan.append((name, v, arrays[name]))
    if not plan:
        raise ModelProblem(N_("No weight in the file matches this model's variable names."))
    for _name, v, a in plan:
        v.assign(a)
    return [name for name, *_variable in plan]


def weight_table(model) -> list[dict]:
    """Per layer: each weight's name, shape and size (the composing post's get_weights, readable)."""
    return [
        {"variable": name, "shape": "x".join(map(str, v.shape)), "parameters": int(np.prod(v.shape))}
        for name, v in named_variables(model).items()
    ]
