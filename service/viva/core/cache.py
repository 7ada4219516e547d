"""A small bounded cache that threads can share, for the grader's rubric-side vectors.

Bounded by entries and, when `max_bytes` is given, by the bytes its keys and values hold: one
ad-hoc rubric of a few hundred KB of text holds ~150 MB of token vectors, so a count alone lets a
dozen requests take gigabytes.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import numpy as np
from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def deep_size(obj: object) -> int:
    """Approximate bytes an object holds: arrays by their buffers, strings, containers and
    dataclasses by their parts. Shared parts count once per reference (an overestimate)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) + 112
    if isinstance(obj, str | bytes | int | float | bool) or obj is None:
        return sys.getsizeof(obj)
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(deep_size(k) + deep_size(v) for k, v in obj.items())
    if isinstance(obj, list | tuple | set | frozenset):
        return sys.getsizeof(obj) + sum(deep_size(x) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return 64 + sum(deep_size(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    return sys.getsizeof(obj)


@dataclasses.dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    size: int

    def sized(self) -> float:
        return self.size


class BoundedCache(Generic[K, V]):
    """Least-recently-used, at most `maxsize` entries and (if given) `max_bytes` bytes of keys
    and values as `deep_size` counts them. A value larger than `max_bytes` is not cached.

    Lookups and inserts hold a lock; computing missing values does not, so a slow computation
    never blocks readers. Two threads may compute the same key at once; both get equal values.
    """

    def __init__(self, maxsize: int, max_bytes: int | None = None) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        bound = max_bytes if max_bytes is not None else maxsize
        self._data: LRUCache[K, _Entry[V]] = LRUCache(maxsize=bound, getsizeof=_Entry.sized)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    @property
    def nbytes(self) -> int:
        """Bytes held now (entries, when the cache has no byte bound)."""
        with self._lock:
            return int(self._data.currsize)

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._data.get(key)
        return entry.value if entry is not None else None

    def put(self, key: K, value: V) -> None:
        entry = self._entry(key, value)
        with self._lock:
            self._store(key, entry)

    def get_many(self, keys: Sequence[K], compute: Callable[[list[K]], Sequence[V]]) -> list[V]:
        """Values for `keys` in order; `compute` is called once with the distinct missing keys."""
        found: dict[K, V] = {}
        with self._lock:
            for k in keys:
                if k not in found and k in self._data:
                    found[k] = self._data[k].value
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            values = compute(missing)
            entries = [self._entry(k, v) for k, v in zip(missing, values, strict=True)]
            with self._lock:
                for k, e in zip(missing, entries, strict=True):
                    found[k] = e.value
                    self._store(k, e)
        return [found[k] for k in keys]

    def _entry(self, key: K, value: V) -> _Entry[V]:
        size = deep_size(key) + deep_size(value) if self.max_bytes is not None else 1
        return _Entry(value, size)

    def _store(self, key: K, entry: _Entry[V]) -> None:
        """Insert under the lock; evict by bytes (LRUCache) and by count (here)."""
        if entry.size > self._data.maxsize:
            self._data.pop(key, None)  # too big to keep: computed for this call only
            return
        self._data[key] = entry
        while len(self._data) > self.maxsize:
            self._data.popitem()
