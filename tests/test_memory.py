import sys

import numpy as np
import pytest

from siamese_core.memory import limit_malloc_arenas, release_free_memory, rss_mb

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
