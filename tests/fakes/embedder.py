"""A deterministic embedder for unit tests: texts sharing content words get similar vectors.

Each content word (lightly stemmed) maps to a fixed pseudo-random unit vector; a text is the
mean of its words. So similarity is word overlap, which tests can reason about, and no model
is loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from viva.core.ports import FloatArray, TokenEmbeddings
from viva.core.text import STOPWORDS, stem

DIM = 256
_WORD = re.compile(r"[A-Za-z0-9]+")


def _word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(DIM)
    return v / np.linalg.norm(v)


class FakeEmbedder:
    name = "fake-bag-of-words"

    def __init__(self, synonyms: dict[str, str] | None = None) -> None:
        self.synonyms = synonyms or {}
        self.calls: list[tuple[str, int]] = []
        self.token_texts: list[str] = []  # every text given to embed_tokens, in order

    def _vec(self, word: str) -> np.ndarray:
        w = word.lower()
        if w in STOPWORDS:
            return np.zeros(DIM)
        w = self.synonyms.get(w, w)
        return _word_vector(stem(w))

    def embed(self, texts: Sequence[str]) -> FloatArray:
        self.calls.append(("embed", len(texts)))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            v = sum((self._vec(m.group()) for m in _WORD.finditer(t)), np.zeros(DIM))
            n = np.linalg.norm(v)
            if n > 0:
                out[i] = v / n
        return out

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenEmbeddings]:
        self.calls.append(("embed_tokens", len(texts)))
        self.token_texts.extend(texts)
        result = []
        for t in texts:
            matches = list(_WORD.finditer(t))
            vecs = [np.zeros(DIM)] + [self._vec(m.group()) for m in matches] + [np.zeros(DIM)]
            offs = [(0, 0)] + [(m.start(), m.end()) for m in matches] + [(0, 0)]
            result.append(
                TokenEmbeddings(
                    vectors=np.asarray(vecs, dtype=np.float32),
                    offsets=np.asarray(offs, dtype=np.int64),
                )
            )
        return result
