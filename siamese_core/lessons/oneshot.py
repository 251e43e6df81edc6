"""One-shot recognition of a student's own symbols: one example per symbol (the gallery), a new
drawing ranked against it with the model's own pair score, and the score of a "test me" round.

The point of a Siamese network: it compares things it was never trained on. Nothing here trains;
every number is the model's dissimilarity of a pair (its distance, or 1 - p(same) for the matchnet
head), the same score Compare shows, so "none of these" uses the model's own threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_SYMBOLS = 5  # a gallery of 2 to 5 symbols; more is not one-shot any more, and costs the server
MIN_SYMBOLS = 2
MAX_TESTS = 40  # "test me" drawings kept per session
NONE = "none of these"


@dataclass(frozen=True)
class Ranking:
    """A query against the gallery: each symbol's score, best first, and the verdict."""

    names: tuple[str, ...]  # best (smallest score) first
    scores: tuple[float, ...]
    threshold: float

    @property
    def best(self) -> str:
        return self.names[0]

    @property
    def verdict(self) -> str:
        """The nearest symbol, or "none of these" when even it is not "same" by the threshold."""
        return self.names[0] if self.scores[0] < self.threshold else NONE


def rank_gallery(model, gallery: dict[str, np.ndarray], query: np.ndarray, threshold: float) -> Ranking:
    """Score ``query`` (uint8 28x28) against every gallery image with the model; smallest first.

    Ties keep the gallery's order (a stable sort), so a ranking is reproducible.
    """
    from siamese_core.network.evaluation import pair_scores

    if len(gallery) < 1:
        raise ValueError("the gallery is empty")
    names = list(gallery)
    images = np.stack([query, *gallery.values()])
    n = len(names)
    scores = pair_scores(model, images, np.zeros(n, int), np.arange(1, n + 1))
    order = np.argsort(scores, kind="stable")
    return Ranking(tuple(names[k] for k in order), tuple(float(scores[k]) for k in order), float(threshold))


@dataclass
class QuizScore:
    """A "test me" round: what each drawing was meant to be and which symbol the model ranked
    first. Its accuracy is the n-way one-shot accuracy, the same measure as
    :func:`one_shot_digits`: the nearest symbol, no threshold. How often even the nearest was
    above the threshold ("none of these") is counted beside it."""

    names: tuple[str, ...]
    truths: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the nearest symbol
    rejected: int = 0  # drawings whose nearest symbol was not "same" by the threshold

    def add(self, truth: str, ranking: Ranking) -> None:
        if len(self.truths) >= MAX_TESTS:
            raise ValueError(f"a round keeps at most {MAX_TESTS} drawings")
        self.truths.append(truth)
        self.answers.append(ranking.best)
        self.rejected += ranking.verdict == NONE

    @property
    def accuracy(self) -> float | None:
        """n-way one-shot accuracy on the student's drawings: the nearest symbol is the one drawn."""
        if not self.truths:
            return None
        return float(np.mean([t == a for t, a in zip(self.truths, self.answers, strict=True)]))

    def confusion(self) -> np.ndarray:
        """Counts: row = the symbol drawn, column = the symbol ranked nearest (the gallery's order)."""
        table = np.zeros((len(self.names), len(self.names)), int)
        for truth, answer in zip(self.truths, self.answers, strict=True):
            table[self.names.index(truth), self.names.index(answer)] += 1
        return table


def one_shot_digits(
    model,
    x: np.ndarray,
    y: np.ndarray,
    n_way: int,
    trials: int = 200,
    seed: int = 0,
    classes: tuple[int, ...] | None = None,
) -> float:
    """The same n-way one-shot accuracy on MNIST digits, with the model's own pair score: each
    trial takes n classes, one support digit of each and a new query of one of them; right when
    the query's own class scores lowest. The true support sits at a random place among the n, so
    a model that scores every pair alike gets chance (1/n), not a perfect score from a tie."""
    from siamese_core.network.evaluation import one_shot_trials, pair_scores

    queries, supports, truth = one_shot_trials(y, n_way, trials, seed, classes)
    n = supports.shape[1]
    scores = pair_scores(model, x, np.repeat(queries, n), supports.ravel()).reshape(len(queries), n)
    return float(np.mean(np.argmin(scores, axis=1) == truth))
