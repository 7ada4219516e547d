"""`viva` with a fake embedder in place of the model, for `batch_memory.py --fake-embedder`.

The model's memory is constant per process, so a run with this embedder measures what the
streaming pipeline itself holds (reader, grader caches, writer, progress, summaries) on files
too large to grade with the real model on a small CPU. Word vectors, as in the test suite's
fake (tests/fakes/embedder.py), are pseudo-random per word; unlike it, this one records no calls
(the test fake's call log would grow with the file) and keeps a small bounded word-vector cache.

    python bench/fake_embedder_cli.py grade answers.csv -o out.jsonl
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

PROVIDER = "bench-fake"
DIM = 256
_WORD = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=4096)
def _word_vector(word: str) -> np.ndarray:
    from viva.core.text import STOPWORDS, stem

    w = word.lower()
    if w in STOPWORDS:
        return np.zeros(DIM, dtype=np.float32)
    seed = int.from_bytes(hashlib.sha256(stem(w).encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


class BenchFakeEmbedder:
    name = "bench-fake-bag-of-words"

    def __init__(self, model: str = "", **_: Any) -> None:
        pass

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            words = [_word_vector(m.group()) for m in _WORD.finditer(t)]
            if words:
                v = np.sum(words, axis=0)
                n = np.linalg.norm(v)
                if n > 0:
                    out[i] = v / n
        return out

    def embed_tokens(self, texts: Sequence[str]) -> list[Any]:
        from viva.core.ports import TokenEmbeddings

        result = []
        zero = np.zeros(DIM, dtype=np.float32)
        for t in texts:
            matches = list(_WORD.finditer(t))
            vecs = [zero] + [_word_vector(m.group()) for m in matches] + [zero]
            offs = [(0, 0)] + [(m.start(), m.end()) for m in matches] + [(0, 0)]
            result.append(
                TokenEmbeddings(
                    vectors=np.asarray(vecs, dtype=np.float32),
                    offsets=np.asarray(offs, dtype=np.int64),
                )
            )
        return result


def main() -> None:
    from viva.adapters.embedder import REGISTRY
    from viva.cli.main import main as viva_main

    REGISTRY[PROVIDER] = BenchFakeEmbedder
    os.environ["VIVA_EMBEDDING_PROVIDER"] = PROVIDER
    viva_main()


if __name__ == "__main__":
    main()
