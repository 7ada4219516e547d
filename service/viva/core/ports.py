"""The one interface the core needs from the outside world: something that embeds text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TokenEmbeddings:
    """Contextual token vectors of one text and each token's character range in that text.

    Special tokens (CLS/SEP) carry the range (0, 0) and are never part of a span.
    """

    vectors: FloatArray  # (tokens, dim), not normalised
    offsets: IntArray  # (tokens, 2): [start, end) character offsets


@runtime_checkable
class Embedder(Protocol):
    """A sentence-embedding model. `name` is stamped into every grade."""

    name: str

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """L2-normalised sentence vectors, one row per text."""
        ...

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenEmbeddings]:
        """One forward pass per text; spans are pooled from these, so an answer costs one pass."""
        ...
