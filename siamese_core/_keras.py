"""The core's one way in to Keras: imported without Keras's optional scikit-learn and pandas
bridges.

Keras 3 imports scikit-learn (for its ``SKLearnClassifier`` wrappers) and pandas (to accept
DataFrames in ``fit``) as soon as it loads, whether or not they are used: about 120 MB of
RSS in every training process (716 MB -> 598 MB for ``import keras`` on our CI machine).
The core uses neither, so while Keras loads they are marked missing, which Keras handles
(it then just lacks those two bridges), and unmarked right after, so anything else can
still import them. Already-imported modules are left alone.
"""

from __future__ import annotations

import sys

if "keras" not in sys.modules:
    _skipped = [m for m in ("sklearn", "pandas") if m not in sys.modules]
    for _m in _skipped:
        sys.modules[_m] = None  # type: ignore[assignment]  # "import _m" raises ImportError
    try:
        import keras  # noqa: F401
    finally:
        for _m in _skipped:
            if sys.modules.get(_m, 0) is None:
                del sys.modules[_m]

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

__all__ = ["keras", "layers", "ops"]
