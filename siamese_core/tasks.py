"""Every core function a worker process runs for the pages, named once.

A page asks for a task by its name here (``Task.RACE``), never by a hand-typed
``"module:function"`` string that fails only when a student presses the button. Importing this
module checks that each task's module exists (without importing it: the web server imports no
TensorFlow); ``tests/test_architecture.py`` imports each function and checks that it takes the
worker's ``report`` callback first.
"""

from __future__ import annotations

import importlib.util
from enum import StrEnum


class _Target:
    """A ``module:function`` value, read by its two halves."""

    value: str

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]

    @property
    def function(self) -> str:
        return self.value.partition(":")[2]


class Task(_Target, StrEnum):
    """``module:function``, as the worker imports it; the function is called as
    ``function(report, **kwargs)``."""

    RACE = "siamese_core.lessons.race:race"
    AUTOENCODER = "siamese_core.lessons.compose:autoencoder_lesson"
    K_SHOT = "siamese_core.lessons.transfer:k_shot_lesson"
    RANKING = "siamese_core.lessons.ranking:ranking_lesson"
    PRETRAINED_FIGURES = "siamese_core.network.evaluation:pretrained_figures"


class ModelCall(_Target, StrEnum):
    """``module:function`` the model service answers a page with, called as ``function(**kwargs)``
    next to the trainings (``WorkerPool.call``): every use of a Keras model the pages make. The
    web server passes handles (``ModelRef``) where the function takes a model."""

    FACTS = "siamese_core.serving.protocol:model_facts"
    COMPARE = "siamese_core.network.compare:compare_pair"
    EMBED = "siamese_core.network.evaluation:embed"
    COMPARABLE = "siamese_core.network.evaluation:comparable_embeddings"
    EVALUATE = "siamese_core.network.evaluation:evaluate"
    ACTIVATIONS = "siamese_core.network.inspect:branch_activations"
    LAB = "siamese_core.network.inspect:lab_measure"
    LOSS_CURVES = "siamese_core.network.service_calls:loss_curves"
    PRETRAINED_FIGURES = "siamese_core.network.service_calls:pretrained_figures"
    RANK_GALLERY = "siamese_core.lessons.oneshot:rank_gallery"
    ONE_SHOT = "siamese_core.network.service_calls:one_shot_on"
    COMPOSITION = "siamese_core.network.service_calls:composition"
    RESTORED = "siamese_core.network.service_calls:restored_names"
    MERGED = "siamese_core.network.service_calls:merged"
    DOWNLOAD = "siamese_core.network.service_calls:download"
    WEIGHT_TABLE = "siamese_core.network.persistence:weight_table"
    LOAD_UPLOAD = "siamese_core.network.persistence:load_model_bytes"


_missing = [t.module for t in (*Task, *ModelCall) if importlib.util.find_spec(t.module) is None]
if _missing:
    raise ImportError(f"worker tasks name modules that do not exist: {', '.join(_missing)}")
