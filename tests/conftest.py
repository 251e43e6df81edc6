import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
