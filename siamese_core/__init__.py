"""Siamese Lab's core: data, models, losses, training, evaluation. Never imports streamlit.

Importing the package is cheap: TensorFlow is imported only by the modules that need it
(``models``, ``losses``, ``training``, ...), so the command line and light pages start fast.
"""

import contextlib
import os
from pathlib import Path

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise in a classroom; errors
# still show. setdefault: a user who sets the variable keeps their choice.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# PostgreSQL's client library (psycopg's libpq, with its OpenSSL) must be loaded before TensorFlow:
# loaded after it, the first TLS connection (sslmode=require, as a hosted board needs) aborted the
# whole process with "free(): invalid pointer" (tensorflow-cpu 2.21, psycopg-binary 3; found by
# CI's PostgreSQL over TLS, tests/serving/test_board.py). Every process that may import TensorFlow
# (the web server, the workers, the tests) imports this package first.
with contextlib.suppress(ImportError):  # a core without the class board's extras
    import psycopg  # noqa: F401

from siamese_core.config import DIFFERENT, PRESETS, SAME, SiameseConfig  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"  # the shipped model, digits and tables

__all__ = ["ASSETS", "DIFFERENT", "PRESETS", "SAME", "SiameseConfig"]
__version__ = "0.1.0"
