"""One comparison of two preprocessed digits, as the Compare page and the CLI show it."""

from __future__ import annotations

import numpy as np

from .config import SAME


def compare_pair(model, a: np.ndarray, b: np.ndarray, threshold: float) -> dict:
    """Verdict for two uint8 (28, 28) digits.

    ``distance`` is the model's dissimilarity (Euclidean or cosine distance, or
    1 - p(same) for the matchnet head); the pair is "same" when it is below ``threshold``.
    """
    from .evaluation import forward
    from .models import head_kind

    out = np.asarray(forward(model)([a[None], b[None]]))[0]
    if head_kind(model) == "matchnet":
        p_same = float(out[SAME])
        distance = 1.0 - p_same
    else:
        p_same = None
        distance = float(out[0])
    return {
        "distance": distance,
        "match_probability": p_same,
        "threshold": float(threshold),
        "same": bool(distance < threshold),
    }


def nearest(embeddings: np.ndarray, query: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the k rows of ``embeddings`` nearest to ``query``."""
    d = np.linalg.norm(embeddings - query[None, :], axis=1)
    idx = np.argsort(d, kind="stable")[:k]
    return idx, d[idx]
