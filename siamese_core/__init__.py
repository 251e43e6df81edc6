"""Siamese Lab's core: data, models, losses, training, evaluation. Never imports streamlit.

Importing the package is cheap: TensorFlow is imported only by the modules that need it
(``models``, ``losses``, ``training``, ...), so the command line and light pages start fast.
"""

import os
from pathlib import Path

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise in a classroom; errors
# still show. setdefault: a user who sets the variable keeps their choice.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from siamese_core.config import DIFFERENT, PRESETS, SAME, SiameseConfig  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"  # the shipped model, digits and tables

__all__ = ["ASSETS", "DIFFERENT", "PRESETS", "SAME", "SiameseConfig"]
__version__ = "0.1.0"
