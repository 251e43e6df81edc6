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
