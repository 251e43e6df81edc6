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


class Task(StrEnum):
    """``module:function``, as the worker imports it; the function is called as
    ``function(report, **kwargs)``."""

    RACE = "siamese_core.lessons.race:race"
    AUTOENCODER = "siamese_core.lessons.compose:autoencoder_lesson"
    K_SHOT = "siamese_core.lessons.transfer:k_shot_lesson"
    RANKING = "siamese_core.lessons.ranking:ranking_lesson"
    PRETRAINED_FIGURES = "siamese_core.network.evaluation:pretrained_figures"

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]

    @property
    def function(self) -> str:
        return self.value.partition(":")[2]


_missing = [task.module for task in Task if importlib.util.find_spec(task.module) is None]
if _missing:
    raise ImportError(f"worker tasks name modules that do not exist: {', '.join(_missing)}")
