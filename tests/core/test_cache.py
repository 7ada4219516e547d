"""BoundedCache by bytes: the grader's caches must not grow with the size of what they hold."""

from __future__ import annotations

import numpy as np

from viva.core.cache import BoundedCache, deep_size


def test_evicts_by_bytes_not_only_by_count() -> None:
    cache: BoundedCache[str, np.ndarray] = BoundedCache(maxsize=1000, max_bytes=100_000)
    for i in range(50):
        cache.put(f"k{i}", np.zeros(4000, dtype=np.float32))  # 16 KB each
    assert cache.nbytes <= 100_000
    assert 3 <= len(cache) <= 6  # about 100 KB / 16 KB, not 50
    assert cache.get("k49") is not None and cache.get("k0") is None  # least recent went first


def test_a_value_larger_than_the_cap_is_returned_but_not_kept() -> None:
    cache: BoundedCache[str, np.ndarray] = BoundedCache(maxsize=10, max_bytes=10_000)
    cache.put("small", np.zeros(10, dtype=np.float32))
    (big,) = cache.get_many(["big"], lambda keys: [np.ones(100_000, dtype=np.float32)])
    assert big.shape == (100_000,) and cache.get("big") is None
    assert cache.get("small") is not None  # nothing useful was evicted for it


def test_count_bound_still_applies_with_a_byte_bound() -> None:
    cache: BoundedCache[int, int] = BoundedCache(maxsize=3, max_bytes=1_000_000)
    for i in range(10):
        cache.put(i, i)
    assert len(cache) == 3


def test_deep_size_counts_array_buffers_and_text() -> None:
    text = "x" * 10_000
    assert deep_size(text) >= 10_000
    assert deep_size((text, np.zeros(1000, dtype=np.float64))) >= 18_000
    assert deep_size({"a": [text]}) >= 10_000
