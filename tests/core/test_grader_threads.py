"""The grader is shared by the API's worker threads without a caller-held lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.core.test_scoring import ANSWERS, QUESTION
from tests.fakes.embedder import FakeEmbedder
from viva.core.cache import BoundedCache
from viva.core.grader import Grader, GradeRequest


class OneAtATime(FakeEmbedder):
    """Fails like a Hugging Face tokenizer ("Already borrowed") when two threads enter at once."""

    def __init__(self) -> None:
        super().__init__()
        self._inside = threading.Semaphore(1)

    def _guarded(self, fn: Any, texts: Sequence[str]) -> Any:
        if not self._inside.acquire(blocking=False):
            raise RuntimeError("Already borrowed")
        try:
            time.sleep(0.002)
            return fn(texts)
        finally:
            self._inside.release()

    def embed(self, texts: Sequence[str]) -> Any:
        return self._guarded(super().embed, texts)

    def embed_tokens(self, texts: Sequence[str]) -> Any:
        return self._guarded(super().embed_tokens, texts)


def test_concurrent_grades_equal_sequential_ones() -> None:
    answers = [f"{a} ({i})" for i in range(40) for a in ANSWERS]
    sequential = Grader(FakeEmbedder()).grade_many([GradeRequest(QUESTION, a) for a in answers])
    expected = [g.model_dump() for g in sequential]
    shared = Grader(OneAtATime(), cache_size=8)  # tiny caches: constant eviction under load
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda a: shared.grade(QUESTION, a).model_dump(), answers))
    assert got == expected


def test_bounded_cache_evicts_and_computes_each_missing_key_once() -> None:
    calls: list[list[str]] = []

    def compute(keys: list[str]) -> list[int]:
        calls.append(keys)
        return [len(k) for k in keys]

    cache: BoundedCache[str, int] = BoundedCache(2)
    assert cache.get_many(["a", "bb", "a"], compute) == [1, 2, 1]
    assert calls == [["a", "bb"]]
    assert cache.get_many(["bb"], compute) == [2] and len(calls) == 1
    cache.get_many(["ccc"], compute)
    assert len(cache) == 2 and cache.get("a") is None  # least recently used went first
