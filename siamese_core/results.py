"""The typed results that cross from the core to the pages, and from a worker process to the web
server: frozen dataclasses, importable without TensorFlow (the web server unpickles them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BatchRow:
    """One trained batch (or one graph call of ``steps_per_execution`` batches), as the
    training thread recorded it."""

    step: int  # batches trained since the start of the run, this one included (1-based)
    epoch: int  # the epoch it belongs to (1-based)
    loss: float | None  # Keras's running mean of the training loss over this epoch so far
    pair_accuracy: float | None  # Keras's running pair accuracy (at 0.5) over this epoch so far, 0..1
    t: float  # seconds of training when it ended (pauses and validation excluded)


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch (or the part of one that ran before a stop), with its validation figures."""

    epoch: int  # 1-based
    loss: float | None  # training loss, Keras's mean over the epoch's batches
    pair_accuracy: float | None  # training pair accuracy at 0.5 over the epoch, 0..1
    val_loss: float  # the training loss on the validation pairs
    val_pair_accuracy: float  # at ``threshold``, 0..1
    threshold: float  # calibrated on the validation pairs after this epoch (or the fixed 0.5)
    seconds: float  # training time so far, in seconds (pauses and validation excluded)
    complete: bool  # False: a stop ended the epoch early

    def as_dict(self) -> dict[str, Any]:
        """For JSON (a saved model's ``history``, in the format files already hold)."""
        return asdict(self)


@dataclass(frozen=True)
class TrainingResult:
    """What a training measured on its test pairs when it ended (finished, or stopped early), and
    how it ran. The test numbers are the evaluation's ``Report`` (siamese_core.network.evaluation)."""

    test_pair_accuracy: float  # at ``threshold``
    threshold: float
    auc: float
    precision_at_1: float
    map_at_r: float | None  # None when no class in the sample has two members
    one_shot_accuracy_held_out: float | None  # on held-out classes, when there are any
    one_shot_way: int | None  # n of that n-way test
    test_pairs: int
    epochs: int  # finished epochs
    steps: int  # batches trained
    train_seconds: float
    dataset: str
    dataset_note: str
    device: str
    stopped_early: bool

    def as_dict(self) -> dict[str, Any]:
        """For JSON (the command line's output)."""
        return asdict(self)


# A finished run whose test ROC AUC is below this learned (almost) nothing: guessing scores 0.5
# and the classroom preset ~0.998 (an unshared Euclidean run that collapsed: 0.499-0.523).
CHANCE_AUC = 0.6
# Its embeddings collapsed when the probe digits' spread after training is below this fraction of
# their spread before it (collapsed runs measured 0.019-0.047; runs that learned, 1.4-12.6).
COLLAPSE_RATIO = 0.1


def spread(embeddings: np.ndarray) -> float:
    """How far apart a set of embeddings lies: the mean distance of each to their mean."""
    e = np.asarray(embeddings, dtype=np.float64)
    return float(np.linalg.norm(e - e.mean(axis=0), axis=1).mean())


@dataclass(frozen=True)
class LearnedNothing:
    """A run that ended no better than guessing, and whether its embeddings collapsed: the probe
    digits' spread before training and after it (None when the run kept no probe)."""

    auc: float
    spread_before: float | None
    spread_after: float | None
    probe_digits: int = 0  # how many test digits the spreads are measured on

    @property
    def spread_ratio(self) -> float | None:
        if self.spread_before is None or self.spread_after is None or self.spread_before == 0:
            return None
        return self.spread_after / self.spread_before

    @property
    def collapsed(self) -> bool:
        return self.spread_ratio is not None and self.spread_ratio < COLLAPSE_RATIO


def learned_nothing(result: TrainingResult | None, probes=()) -> LearnedNothing | None:
    """The diagnosis of a run that trained to the end and ended at chance level, from its test
    report and its probe's embeddings (``probes[0]`` before training, ``probes[-1]`` after); None
    for a run that learned, or that was stopped early (its reason is plain)."""
    if result is None or result.stopped_early or not result.steps or result.auc >= CHANCE_AUC:
        return None
    if len(probes) >= 2:
        return LearnedNothing(result.auc, spread(probes[0]), spread(probes[-1]), len(probes[-1]))
    return LearnedNothing(result.auc, None, None)


@dataclass(frozen=True)
class Component:
    name: str  # "branch", "branch_a", "branch_b" or "head"
    role: str  # "branch" or "head"
    trainable: int
    non_trainable: int
    used_by: tuple[str, ...]  # the model inputs whose data flows through it
    object_id: int  # id() of the Keras object: equal ids mean one shared object

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class Breakdown:
    components: tuple[Component, ...]
    total: int
    trainable: int
    non_trainable: int
    shared: bool  # one branch object serves every input

    @property
    def branch(self) -> int:
        """Parameters of one feature branch."""
        return next(c.total for c in self.components if c.role == "branch")

    def as_dict(self) -> dict[str, Any]:
        """For JSON (the command line's output)."""
        return {
            "total": self.total,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "branch": self.branch,
            "shared": self.shared,
            "components": [
                {
                    "name": c.name,
                    "role": c.role,
                    "total": c.total,
                    "trainable": c.trainable,
                    "non_trainable": c.non_trainable,
                    "used_by": list(c.used_by),
                }
                for c in self.components
            ],
        }


@dataclass(frozen=True)
class LabNumbers:
    """Everything the Weight-sharing lab shows about one configuration, read off the built model."""

    breakdown: Breakdown
    count_params: int  # Keras's own model.count_params(), beside our sum
    dot: str  # the architecture as Graphviz DOT
    graph_text: str  # the same graph in sentences (the picture's text equivalent)
    code: str  # standalone Keras code that builds the same architecture
    emb_a: np.ndarray  # one digit's embedding through input A's branch
    emb_b: np.ndarray  # the same digit through input B's branch
    digit: np.ndarray  # that digit, 28x28 uint8
    digit_label: int  # its class (0-9)


@dataclass(frozen=True)
class Verdict:
    """One comparison of two digits (Compare, the command line)."""

    distance: float  # the model's dissimilarity: a distance, or 1 - p(same) for the matchnet head
    match_probability: float | None  # p(same), for the matchnet head only
    threshold: float
    same: bool  # distance < threshold

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PretrainedFigures:
    """What the pages show of the pretrained default model, computed once in a worker: its test
    report (Evaluate) and the embeddings of the Embeddings page's default sample."""

    report: Any  # siamese_core.network.evaluation.Report
    sample_embeddings: np.ndarray  # (n, embedding size), for display_sample(len(test), n)
