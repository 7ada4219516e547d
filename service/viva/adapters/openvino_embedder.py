"""The bundled model as an OpenVINO IR with int8 weights, run by OpenVINO's CPU plugin.

Built here, from the local weights (no hub), once: `build()` converts the transformer's last
hidden state from torch straight to OpenVINO (no ONNX step, so neither `onnx` nor onnxruntime is
needed), compresses the weights of every MatMul to int8 with NNCF and caches the IR under the
data directory, keyed by the weights and the converter/compressor versions. Serving needs only
openvino, `tokenizers` and numpy; tokenization, batching, pooling and token vectors are the ONNX
backend's (`OnnxEmbedder`), so both give the grader the same tokens over the same characters.

Why weight-only int8 (NNCF INT8_ASYM) rather than full post-training quantization: measured on
examples/answers.jsonl, it was the fastest variant and kept a sentence cosine to torch fp32 of
0.999 (0.997 worst); activations in int8 too were no faster and fell to 0.997 (0.987 worst).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from viva.adapters.onnx_embedder import (
    OnnxEmbedder,
    SourceModel,
    last_hidden_module,
    publish_build,
    single_thread_blas,
)
from viva.errors import ConfigError

FORMAT = "viva-openvino/1"
"""Bumped whenever the conversion or compression recipe changes, so old builds are not reused."""

QUANTIZATION = "int8"
"""Weights int8 (asymmetric, per output channel); activations stay f32."""

EXTRA = "VIVA_EMBEDDING_BACKEND=openvino needs the openvino extra (pip install 'viva[openvino]')"

COMPILE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
"""f32 inference: on CPUs with bf16 OpenVINO would otherwise pick bf16 by itself, so the vectors
(and grades) would depend on the machine."""


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # reported by build() or the embedder
        return "none"


def build_key(source: SourceModel) -> str:
    """Weights digest + recipe + converter versions: a new model or OpenVINO gets a new build."""
    salt = f"{FORMAT}|{QUANTIZATION}|{_version('openvino')}|{_version('nncf')}"
    h = hashlib.sha256(salt.encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"):
        f = source.path / name
        if f.exists():
            h.update(name.encode())
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def build_dir(source: SourceModel, cache_dir: Path) -> Path:
    slug = source.name.replace("/", "--")
    return cache_dir / f"{slug}-openvino-{QUANTIZATION}-{build_key(source)}"


def build(source: SourceModel, cache_dir: Path, *, force: bool = False) -> Path:
    """Convert and compress `source` into the cache (atomically); return the build folder.

    Needs torch, transformers and nncf; serving the result needs none of them.
    """
    target = build_dir(source, cache_dir)
    if (target / "model.xml").exists() and not force:
        return target
    try:
        import nncf
        import openvino as ov
        import torch
        import transformers  # noqa: F401  (last_hidden_module needs it)
    except ImportError as exc:
        raise ConfigError(f"{EXTRA}: {exc}") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        ids = torch.ones((2, 8), dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, 5:] = 0  # a padded row, so the trace cannot assume a mask of all ones
        names = ("input_ids", "attention_mask", "token_type_ids")
        with torch.no_grad():
            model = ov.convert_model(
                last_hidden_module(source),
                example_input=dict(zip(names, (ids, mask, torch.zeros_like(ids)), strict=True)),
                input=[(n, ov.PartialShape([-1, -1]), ov.Type.i64) for n in names],
            )
        model.outputs[0].get_tensor().set_names({"last_hidden_state"})
        model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
        ov.save_model(model, tmp / "model.xml", compress_to_fp16=False)
        meta = {
            "format": FORMAT,
            "model": source.name,
            "quantization": QUANTIZATION,
            "weights": "int8 asymmetric (nncf.compress_weights INT8_ASYM)",
            "openvino": _version("openvino"),
            "nncf": _version("nncf"),
            "torch": torch.__version__,
            "max_tokens": source.max_tokens,
        }
        publish_build(source, tmp, target, meta, model_file="model.xml", force=force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


class _Session:
    """An OpenVINO compiled model behind the one onnxruntime call `OnnxEmbedder` makes.
    Each call gets its own infer request, so concurrent threads do not share one."""

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self._output = compiled.output("last_hidden_state")

    def run(self, _outputs: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        request = self._compiled.create_infer_request()
        request.infer(feed)
        return [np.array(request.get_tensor(self._output).data, dtype=np.float32)]


class OpenVinoEmbedder(OnnxEmbedder):
    """Sentence and token vectors from the int8 OpenVINO build; thread-safe, no torch."""

    def __init__(self, folder: Path, name: str, *, batch_size: int = 64) -> None:
        try:
            import openvino as ov
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(f"{EXTRA}: {exc}") from None
        meta = json.loads((folder / "meta.json").read_text())
        self.quantization = str(meta["quantization"])
        self.backend = f"openvino-{self.quantization}"
        self.name = f"{name}+{self.backend}"
        self.batch_size = batch_size
        self.max_tokens = int(meta["max_tokens"])
        single_thread_blas()  # the grader's small matrix products: see onnx_embedder
        compiled = ov.Core().compile_model(folder / "model.xml", "CPU", COMPILE_CONFIG)
        self._session = _Session(compiled)
        self._inputs = {n for i in compiled.inputs for n in i.get_names()}
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_tokens)
        tok.no_padding()
        self._tok = tok
        self._tok_lock = threading.Lock()
