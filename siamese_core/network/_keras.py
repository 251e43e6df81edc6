"""The core's one way in to Keras: imported without Keras's optional scikit-learn and pandas
bridges.

Keras 3 imports scikit-learn (for its ``SKLearnClassifier`` wrappers) and pandas (to accept
DataFrames in ``fit``) as soon as it loads, whether or not they are used: about 120 MB of
RSS in every training process (716 MB -> 598 MB for ``import keras`` on our CI machine).
The core uses neither. While Keras loads, an import hook refuses those two **to the loading
thread only**, which Keras handles (it then lacks those two bridges); other threads (a
Streamlit page importing pandas at the same moment) import them as usual, and so does
everyone once Keras has loaded. Already-imported modules are never touched.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
import threading

SKIPPED = ("sklearn", "pandas")
_state = threading.local()


class _SkipInThisThread(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if getattr(_state, "skipping", False) and name.partition(".")[0] in SKIPPED:
            raise ModuleNotFoundError(f"{name} is skipped while Keras loads", name=name)
        return None  # not ours: let the next finder look


@contextlib.contextmanager
def skipping_optional_imports():
    """Inside this block, this thread cannot import scikit-learn or pandas (if not yet loaded)."""
    finder = _SkipInThisThread()
    sys.meta_path.insert(0, finder)
    _state.skipping = True
    try:
        yield
    finally:
        _state.skipping = False
        sys.meta_path.remove(finder)


if "keras" not in sys.modules:
    with skipping_optional_imports():
        import keras  # noqa: F401

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

__all__ = ["keras", "layers", "ops"]
