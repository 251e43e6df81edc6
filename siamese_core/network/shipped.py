"""The pretrained model's figures, shipped (``assets/pretrained_figures.npz``): its test report
(Evaluate) and the embeddings of the Embeddings page's default sample, on full MNIST and on the
embedded digits. They are the same on every server, so a fresh server shows them at once instead
of waiting for the model service to start and compute them (issue 26: every page's first visit
within 2 s). ``tests/network/test_shipped.py`` recomputes them from the model and compares;
``python tools/pretrained_figures.py`` writes them again after the model changes.

Plain arrays and JSON (no pickle): reading them needs neither TensorFlow nor trust in the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from siamese_core import ASSETS
from siamese_core.results import PretrainedFigures

FIGURES_FILE = ASSETS / "pretrained_figures.npz"
DATASETS = ("mnist", "mnist-5k")
N_POINTS = 1000  # the Embeddings page's default number of points
ARRAYS = ("scores", "same", "i", "j")
NUMBERS = ("threshold", "accuracy", "auc", "precision_at_1", "map_at_r", "one_shot", "one_shot_way")


def _key(dataset: str, held_out: tuple[int, ...], n_points: int) -> str:
    return f"{dataset}|{','.join(map(str, held_out))}|{n_points}"


def save(
    figures: dict[tuple[str, tuple[int, ...], int], PretrainedFigures], path: Path = FIGURES_FILE
) -> None:
    arrays: dict[str, np.ndarray] = {}
    for (dataset, held_out, n_points), f in figures.items():
        key = _key(dataset, held_out, n_points)
        for name in ARRAYS:
            arrays[f"{key}/{name}"] = np.asarray(getattr(f.report, name))
        arrays[f"{key}/embeddings"] = np.asarray(f.sample_embeddings, np.float32)
        numbers = {name: getattr(f.report, name) for name in NUMBERS}
        arrays[f"{key}/numbers"] = np.frombuffer(json.dumps(numbers).encode(), np.uint8)
    np.savez_compressed(path, **arrays)


def load(
    dataset: str, held_out: tuple[int, ...], n_points: int = N_POINTS, path: Path = FIGURES_FILE
) -> PretrainedFigures | None:
    """The shipped figures for this data set and split, or None when none were shipped for it."""
    from siamese_core.network.evaluation import Report

    key = _key(dataset, tuple(held_out), n_points)
    try:
        with np.load(path, allow_pickle=False) as z:
            if f"{key}/numbers" not in z.files:
                return None
            numbers = json.loads(z[f"{key}/numbers"].tobytes().decode())
            arrays = {name: z[f"{key}/{name}"] for name in ARRAYS}
            embeddings = z[f"{key}/embeddings"]
    except (OSError, ValueError, KeyError):
        return None
    return PretrainedFigures(report=Report(**arrays, **numbers), sample_embeddings=embeddings)


# ---- the Weight-sharing lab's numbers for its default configurations ----------------------------------------------
LAB_FILE = ASSETS / "lab_numbers.json"


def _lab_types() -> dict[str, type]:
    """The only types a shipped lab file may hold (no pickle, no arbitrary classes)."""
    from siamese_core.network.inspect import GraphLayer, GraphOp
    from siamese_core.results import Breakdown, Component, LabNumbers

    return {t.__name__: t for t in (Breakdown, Component, LabNumbers, GraphLayer, GraphOp)}


def _to_json(value):
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value, types: dict[str, type]):
    if isinstance(value, dict):
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        if "__tuple__" in value:
            return tuple(_from_json(v, types) for v in value["__tuple__"])
        if "__type__" in value:
            kind = types[value["__type__"]]  # KeyError: a type no lab file may hold
            return kind(**{k: _from_json(v, types) for k, v in value.items() if k != "__type__"})
        return {k: _from_json(v, types) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v, types) for v in value]
    return value


def _lab_key(config) -> str:
    return json.dumps(_config_fields(config), sort_keys=True)


def _config_fields(config) -> dict:
    from dataclasses import asdict

    fields = asdict(config)
    fields["held_out_classes"] = list(config.held_out_classes)
    return fields


def save_lab(measured: dict, path: Path = LAB_FILE) -> None:
    """``measured``: config -> (LabNumbers, graph), as ``inspect.lab_measure`` returns them."""
    entries = [
        {"config": _config_fields(config), "numbers": _to_json(numbers), "graph": _to_json(graph)}
        for config, (numbers, graph) in measured.items()
    ]
    path.write_text(json.dumps(entries))


def load_lab(config, path: Path = LAB_FILE):
    """(LabNumbers, graph) shipped for this configuration, or None."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    key = _lab_key(config)
    for entry in entries:
        if json.dumps(entry["config"], sort_keys=True) == key:
            types = _lab_types()
            return _from_json(entry["numbers"], types), _from_json(entry["graph"], types)
    return None


# ---- the Train page's loss panel for every preset's margin ---------------------------------------------------------
LOSS_FILE = ASSETS / "loss_curves.json"


def loss_curve_keys() -> list[tuple[float, float | None, int]]:
    """(margin, top, points) of the loss panel as each preset opens it (siamese_ui/loss_view.py)."""
    from siamese_core.config import PRESETS

    keys = {(float(c.margin), 2.0 if c.distance == "cosine" else None, 201) for c in PRESETS.values()}
    return sorted(keys, key=lambda k: (k[0], k[1] or 0.0))


def save_loss_curves(curves: dict, path: Path = LOSS_FILE) -> None:
    """``curves``: (margin, top, points) -> (d, same, different), as ``service_calls.loss_curves``."""
    entries = [
        {"margin": m, "top": top, "points": n, "curves": [np.asarray(a, np.float32).tolist() for a in arrays]}
        for (m, top, n), arrays in curves.items()
    ]
    path.write_text(json.dumps(entries))


def load_loss_curves(margin: float, top: float | None, points: int, path: Path = LOSS_FILE):
    """The shipped (d, same, different) for this panel, or None."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for entry in entries:
        if (entry["margin"], entry["top"], entry["points"]) == (float(margin), top, points):
            return tuple(np.asarray(a, np.float32) for a in entry["curves"])
    return None


# ---- the pretrained model's facts (parameters, metric, branches) ----------------------------------------------------
FACTS_FILE = ASSETS / "pretrained_facts.json"


def save_facts(facts: dict, path: Path = FACTS_FILE) -> None:
    """``facts``: ``dataclasses.asdict`` of the pretrained model's ``serving.protocol.ModelFacts``."""
    path.write_text(json.dumps(facts, sort_keys=True))


def load_facts(path: Path = FACTS_FILE) -> dict | None:
    """The shipped facts of the pretrained model (the fields of ``ModelFacts``), or None."""
    try:
        facts = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return facts if isinstance(facts, dict) and set(facts) == {"parameters", "metric", "branches"} else None
