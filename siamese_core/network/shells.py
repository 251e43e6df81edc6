"""Compiled models: how a configuration is compiled, and the compiled models one process keeps
between its trainings (:class:`ModelShells`), each reset to exactly the state a new model of the next
configuration starts from. Tracing a model's training graph is what a kept one saves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from siamese_core.config import SiameseConfig
from siamese_core.network._keras import keras
from siamese_core.network.models import BUILD_LOCK, architecture, build_siamese


def make_optimizer(config: SiameseConfig):
    cls = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }[config.optimizer]
    return cls(learning_rate=config.learning_rate)


def compile_model(model, config: SiameseConfig) -> None:
    from siamese_core.network.losses import ContrastiveLoss, PairAccuracy

    if config.head == "matchnet":
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="pair_accuracy")]
    else:
        loss = ContrastiveLoss(margin=config.margin)
        metrics = [PairAccuracy(threshold=0.5)]
    model.compile(
        optimizer=make_optimizer(config),
        loss=loss,
        metrics=metrics,
        steps_per_execution=config.steps_per_execution,
        jit_compile=config.jit_compile,
    )


def shell_key(config: SiameseConfig) -> tuple:
    """What a compiled model's traced functions depend on: two configurations with the same key
    train the same graph (only their data, seed and length differ)."""
    c = config
    return (*architecture(c), c.margin, c.optimizer, c.learning_rate, c.steps_per_execution, c.jit_compile)


@dataclass
class Shell:
    """A compiled model lent to one training at a time, with its optimizer's starting state."""

    model: Any
    optimizer_start: list[np.ndarray]

    @classmethod
    def new(cls, config: SiameseConfig) -> Shell:
        model = build_siamese(config)
        compile_model(model, config)
        model.optimizer.build(model.trainable_variables)  # now, so its starting state can be kept
        return cls(model, [np.array(v.numpy()) for v in model.optimizer.variables])

    def reset(self, config: SiameseConfig) -> None:
        """Exactly the state a new model of ``config`` starts from: a freshly built model's
        weights and random-seed states (the same seed gives the same numbers), and the optimizer
        as it was before its first step (Adam's step count and moments at zero)."""
        mine, theirs = self.model.variables, starting_values(config)
        if [tuple(v.shape) for v in mine] != [start.shape for start in theirs]:
            raise ValueError("a model shell no longer matches its configuration")
        for v, start in zip(mine, theirs, strict=True):
            v.assign(start)
        for v, start in zip(self.model.optimizer.variables, self.optimizer_start, strict=True):
            v.assign(start)


# A new model's variables (weights and random-seed states) by architecture and seed, the last few kept:
# a class trains one preset with one seed, and building a model to read them took ~80 ms of the ~4 s
# of CPU a classroom run takes (BENCHMARKS.md, "The web server on one core, less CPU a training and a
# page"). At most a few MB each (the matchnet preset's 3.5 M parameters: 14 MB).
_STARTS: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
_STARTS_KEPT = 2
_STARTS_LOCK = threading.Lock()


def starting_values(config: SiameseConfig) -> list[np.ndarray]:
    """The values of every variable of ``build_siamese(config)``, as a new model has them, with the
    random seeds set as that build leaves them (``keras.utils.set_random_seed(config.seed)``)."""
    key = (*architecture(config), config.seed)
    with _STARTS_LOCK:
        values = _STARTS.pop(key, None)
    if values is None:
        values = [np.array(v.numpy()) for v in build_siamese(config).variables]
        for value in values:
            value.flags.writeable = False  # kept for the next trainings: read, never changed
    else:
        with BUILD_LOCK:
            keras.utils.set_random_seed(config.seed)  # what the build does first, as if it had run
    with _STARTS_LOCK:
        _STARTS[key] = values
        while len(_STARTS) > _STARTS_KEPT:
            _STARTS.popitem(last=False)
    return values


class ModelShells:
    """The compiled models one process keeps between its trainings (the model service's worker).

    Building and compiling a model is quick; tracing its training and inference steps into
    TensorFlow graphs is not: a classroom run took 7.2-7.4 s of CPU on one core with a new model and
    5.1-5.3 s on a kept one (``benchmarks/bench_shells.py``), and each new model left ~11 MB behind
    in the process against ~1 MB.
    A process that trains the same shape again (a class of students on one preset) takes the
    shell of the last such training, resets its weights to the new seed's and its optimizer to
    zero, and trains with the graph already traced. A shell is lent to one training at a time;
    its owner gives it back once nothing reads the trained weights any more (the worker: after
    the model has been written to bytes). At most ``size`` shells are kept, the least recently
    used dropped first."""

    def __init__(self, size: int = 2):
        self.size = size
        self._lock = threading.Lock()
        self._idle: OrderedDict[tuple, Shell] = OrderedDict()
        self.reused = 0  # trainings that started from a kept shell (read by tests and benchmarks)

    def take(self, config: SiameseConfig) -> Shell:
        """A shell for ``config``, reset to its starting state: a kept one, else a new one."""
        with self._lock:
            shell = self._idle.pop(shell_key(config), None)
        if shell is None:
            return Shell.new(config)
        shell.reset(config)
        with self._lock:
            self.reused += 1
        return shell

    def give_back(self, config: SiameseConfig, shell: Shell) -> None:
        with self._lock:
            key = shell_key(config)
            self._idle[key] = shell
            self._idle.move_to_end(key)
            while len(self._idle) > self.size:
                self._idle.popitem(last=False)
