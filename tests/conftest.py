import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The class board's SQLite file: never the user's own (~/.siamese-lab), for the app in AppTest and
# for every server the browser tests start (they inherit this environment).
os.environ.setdefault(
    "SIAMESE_LAB_BOARD_PATH", os.path.join(tempfile.mkdtemp(prefix="siamese-lab-board-"), "board.sqlite")
)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def small_data():
    """The embedded 5,000 digits: always available offline, never full MNIST."""
    from siamese_core.data import load_dataset

    return load_dataset("mnist-5k", seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
