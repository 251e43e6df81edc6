"""One comparison of two preprocessed digits, and neighbour search, as the pages and the CLI
show them."""

from __future__ import annotations

import numpy as np

from siamese_core.results import Verdict


def compare_pair(model, a: np.ndarray, b: np.ndarray, threshold: float) -> Verdict:
    """Verdict for two uint8 (28, 28) digits.

    ``distance`` is the model's dissimilarity (Euclidean or cosine distance, or
    1 - p(same) for the matchnet head); the pair is "same" when it is below ``threshold``.
    """
    from siamese_core.network.evaluation import dissimilarity, forward
    from siamese_core.network.models import head_kind

    distance = float(dissimilarity(model, forward(model)([a[None], b[None]]))[0])
    p_same = 1.0 - distance if head_kind(model) == "matchnet" else None
    return Verdict(
        distance=distance,
        match_probability=p_same,
        threshold=float(threshold),
        same=bool(distance < threshold),
    )


def embedding_distances(embeddings: np.ndarray, query: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Distance of every row of ``embeddings`` to ``query``, the way the model measures it.

    ``cosine``: 1 - cos(angle), as the model's cosine distance layer computes it (0..2), so a
    neighbour's distance reads on the same scale as the model's threshold.
    """
    if metric == "cosine":
        norm = np.linalg.norm(embeddings, axis=1) * np.linalg.norm(query)
        return 1.0 - (embeddings @ query) / np.maximum(norm, 1e-12)
    return np.linalg.norm(embeddings - query[None, :], axis=1)


def nearest(
    embeddings: np.ndarray, query: np.ndarray, k: int = 5, metric: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the k rows of ``embeddings`` nearest to ``query``."""
    d = embedding_distances(embeddings, query, metric)
    idx = np.argsort(d, kind="stable")[:k]
    return idx, d[idx]
