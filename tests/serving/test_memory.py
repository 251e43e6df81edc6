import subprocess
import sys

import numpy as np
import pytest

from siamese_core.serving.memory import limit_malloc_arenas, release_free_memory, rss_mb
from tests.helpers import ROOT

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, calls glibc")


@linux
def test_rss_follows_a_large_allocation():
    before = rss_mb()
    block = np.ones(200 * 2**20, dtype=np.uint8)  # 200 MB, touched
    during = rss_mb()
    del block
    release_free_memory()
    after = rss_mb()
    assert 190 < during - before < 230
    assert after < during - 150


@linux
def test_malloc_arena_cap_is_accepted():
    assert limit_malloc_arenas(2) is True


def test_rss_of_a_missing_process_is_zero():
    assert rss_mb(2**22 + 12345) == 0.0


def run_python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter at the repository's root: what it imports starts from nothing."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_the_core_loads_keras_without_sklearn_and_pandas_which_stay_importable():
    code = (
        "import sys; import siamese_core.network.training, siamese_core.network.evaluation, siamese_core.network.persistence;"
        "print('sklearn' in sys.modules, 'pandas' in sys.modules);"
        "import sklearn.metrics, pandas; print(pandas.DataFrame({'a': [1]}).shape)"
    )
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["False False", "(1, 1)"]


def test_the_skip_applies_to_the_loading_thread_only():
    """A Streamlit page importing pandas while another session's thread loads Keras must get
    pandas (a process-wide block made the Weight-sharing page fail with ModuleNotFoundError)."""
    code = """
import sys, threading
from siamese_core.network._keras import skipping_optional_imports
for m in [m for m in list(sys.modules) if m.split('.')[0] in ('pandas', 'sklearn')]:
    del sys.modules[m]
got = {}
with skipping_optional_imports():
    try:
        import pandas
        got['main'] = 'imported'
    except ImportError:
        got['main'] = 'refused'
    t = threading.Thread(target=lambda: got.__setitem__('other', __import__('pandas').__name__))
    t.start(); t.join()
import sklearn.metrics
print(got['main'], got['other'], 'sklearn ok')
"""
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "refused pandas sklearn ok"
