"""A small bounded cache that threads can share, for the grader's rubric-side vectors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Least-recently-used, bounded by `maxsize` (entries, or the units `getsizeof` returns).

    Lookups and inserts hold a lock; computing missing values does not, so a slow computation
    never blocks readers. Two threads may compute the same key at once; both get equal values.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[V], float] | None = None) -> None:
        self._data: LRUCache[K, V] = LRUCache(maxsize=maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value

    def get_many(self, keys: Sequence[K], compute: Callable[[list[K]], Sequence[V]]) -> list[V]:
        """Values for `keys` in order; `compute` is called once with the distinct missing keys."""
        found: dict[K, V] = {}
        with self._lock:
            for k in keys:
                if k not in found and k in self._data:
                    found[k] = self._data[k]
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            values = compute(missing)
            with self._lock:
                for k, v in zip(missing, values, strict=True):
                    found[k] = v
                    self._data[k] = v
        return [found[k] for k in keys]
