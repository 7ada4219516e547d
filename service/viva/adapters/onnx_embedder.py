"""The bundled model as int8 ONNX, run by onnxruntime: about 2x torch fp32 on a CPU.

The quantized model is built here, from the local weights (no hub), once: `build()` exports the
transformer's last hidden state with torch, quantizes it (dynamic int8) and caches it under the
data directory, keyed by the weights and the exporter/runtime versions. Serving then needs only
onnxruntime, `tokenizers` and numpy: pooling and normalisation are done here in numpy, so torch
and sentence-transformers are never imported (seconds and hundreds of MB saved at start-up).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from viva.core.ports import FloatArray, TokenEmbeddings
from viva.errors import ConfigError

FORMAT = "viva-onnx/2"
"""Bumped whenever the export or quantization recipe changes, so old builds are not reused."""

QUANTIZATION = "int8"


@dataclass(frozen=True)
class SourceModel:
    """A sentence-transformers folder on disk (Transformer, mean Pooling, Normalize)."""

    path: Path
    name: str  # what provenance calls it, e.g. sentence-transformers/all-MiniLM-L6-v2

    @property
    def max_tokens(self) -> int:
        cfg = self.path / "sentence_bert_config.json"
        if cfg.exists():
            return int(json.loads(cfg.read_text()).get("max_seq_length") or 256)
        return 256


def _runtime_version() -> str:
    try:
        from importlib.metadata import version

        return version("onnxruntime")
    except Exception:  # pragma: no cover - onnxruntime missing: reported by load()
        return "none"


def build_key(source: SourceModel) -> str:
    """Weights digest + recipe + runtime version: a new model or onnxruntime gets a new build."""
    h = hashlib.sha256(f"{FORMAT}|{QUANTIZATION}|{_runtime_version()}".encode())
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
    return cache_dir / f"{slug}-onnx-{QUANTIZATION}-{build_key(source)}"


def last_hidden_module(source: SourceModel) -> Any:
    """`source`'s transformer as a torch module returning its last hidden state, for export.
    Called by keyword: transformers' positional order changes between versions. Build time only
    (imports torch and transformers)."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(source.path)).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    return LastHidden().eval()


def publish_build(
    source: SourceModel,
    tmp: Path,
    target: Path,
    meta: dict[str, Any],
    *,
    model_file: str,
    force: bool,
) -> None:
    """Add the tokenizer and `meta.json` to a finished build in `tmp` and move it to `target`
    in one rename, so a reader never sees half a build."""
    shutil.copy(source.path / "tokenizer.json", tmp / "tokenizer.json")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    tmp.chmod(0o755)
    if force and target.exists():
        shutil.rmtree(target)
    try:
        os.replace(tmp, target)
    except OSError:
        # Another process (a second worker) finished the same build first: use theirs.
        if not (target / model_file).exists():
            raise


def build(source: SourceModel, cache_dir: Path, *, force: bool = False) -> Path:
    """Export and quantize `source` into the cache (atomically); return the build folder.

    Needs torch and transformers (the default install has both); serving the result does not.
    """
    target = build_dir(source, cache_dir)
    if (target / "model.onnx").exists() and not force:
        return target
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ConfigError(
            f"VIVA_EMBEDDING_BACKEND=onnx needs the onnx extra (pip install 'viva[onnx]'): {exc}"
        ) from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    try:
        model = last_hidden_module(source)
        ids = torch.ones((2, 8), dtype=torch.long)
        fp32 = tmp / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                model,
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "token_type_ids": {0: "batch", 1: "tokens"},
                    "last_hidden_state": {0: "batch", 1: "tokens"},
                },
                opset_version=17,
                dynamo=False,
            )
        # Per-channel weights on the MatMuls only: per-tensor int8 (the default) dropped the
        # cosine to torch fp32 to 0.95 on average (0.80 worst) on examples/answers.jsonl; this
        # keeps 0.99 (0.97 worst) at the same speed.
        quantize_dynamic(
            str(fp32),
            str(tmp / "model.onnx"),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        fp32.unlink()
        meta = {
            "format": FORMAT,
            "model": source.name,
            "quantization": QUANTIZATION,
            "onnxruntime": _runtime_version(),
            "torch": torch.__version__,
            "max_tokens": source.max_tokens,
        }
        publish_build(source, tmp, target, meta, model_file="model.onnx", force=force)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def single_thread_blas() -> None:
    """Numpy's BLAS to one thread, for the whole process (threadpoolctl ships with scikit-learn).

    Grading multiplies small matrices (answer tokens x rubric tokens), where a second OpenBLAS
    thread gains nothing, and that thread then busy-waits after every product, taking a core
    from the model and the server: on 2 loaded cores a one-answer grade cost 35 ms of CPU with
    it and 17 ms without (a batch 20 -> 14 ms per answer). The model has its own threads.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn, always installed
        return
    threadpool_limits(1, user_api="blas")


LENGTH_BUCKET = 8
"""Each text is padded to the next multiple of this many tokens (its own length decides, never
its batch-mates'), so a batch holds texts of one padded width. Exact lengths gave a model call
per distinct length and, in a server, a new input shape for OpenVINO to prepare at nearly every
call. The gain is in those new shapes, not in the model calls: `bench/bucket_agreement.py`, whose
timed pass repeats shapes a warm-up pass has prepared, gives 18.3 ms of CPU an answer graded 15
at a time with buckets of 8 against 17.8 exact; where every variant met fresh shapes (variants
alternating in one process) it was 12.1 against 15.8, and the API at 32 clients went from 0.64x
to 0.77-0.80x batch speed on the same morning (bench/bench_api.py). A text's vectors stay the
same whatever it is batched with (bucket and padding come from the text alone); against exact
lengths they moved by at most 0.002 per component
(Mohler's agreement unchanged; SciEntsBank's 10-fold macro-F1 0.677 -> 0.660, and 0.678-0.680
with buckets of 1, 4 and 16: the noise of that fit, see the README's agreement section)."""


def padded_length(tokens: int, max_tokens: int) -> int:
    return min(-(-tokens // LENGTH_BUCKET) * LENGTH_BUCKET, max(max_tokens, tokens))


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices into `lengths` (padded lengths), shortest first, cut into model batches of texts
    of one length.

    Padding to a batch's longest text is what is avoided: padded to a longer neighbour, an
    answer's similarities moved in the 4th decimal, so the same answer graded alone and in a
    file got different grades. And on a CPU a padded token costs as much as a real one while
    larger batches buy nothing (an int8 row of 128 tokens: 16 ms of CPU alone, 18-22 ms in a
    batch of 32; 32 random answers padded to the longest were 2.3x their real tokens).
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    for i in order:
        last = batches[-1] if batches else None
        if last is not None and len(last) < batch_size and lengths[last[0]] == lengths[i]:
            last.append(i)
        else:
            batches.append([i])
    return batches


class OnnxEmbedder:
    """Sentence and token vectors from an int8 ONNX build; thread-safe, no torch."""

    def __init__(self, folder: Path, name: str, *, batch_size: int = 64) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                "VIVA_EMBEDDING_BACKEND=onnx needs the onnx extra "
                f"(pip install 'viva[onnx]'): {exc}"
            ) from None
        meta = json.loads((folder / "meta.json").read_text())
        self.quantization = str(meta["quantization"])
        self.backend = f"onnx-{self.quantization}"
        self.name = f"{name}+{self.backend}"
        self.batch_size = batch_size
        self.max_tokens = int(meta["max_tokens"])
        single_thread_blas()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between runs: spinning threads burn the CPU that the server's own
        # threads (HTTP, tokenising, scoring) and other processes need. On 2 loaded cores
        # (bench/bench_api.py) it doubled the CPU of a one-answer run (41 -> 18 ms without)
        # and cost batches a quarter more.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_tokens)
        tok.no_padding()
        self._tok = tok
        self._tok_lock = threading.Lock()  # enable_* mutate the tokenizer; encode is read-only

    def _encode(self, texts: list[str]) -> list[Any]:
        with self._tok_lock:
            return list(self._tok.encode_batch(texts))

    def _forward(self, encs: list[Any]) -> list[FloatArray]:
        """Last hidden states of the real tokens, one (tokens, dim) array per encoding, in
        order. Batches hold texts of one padded width (`LENGTH_BUCKET`), which each text's own
        length decides, so batching never changes a vector."""
        out: list[FloatArray | None] = [None] * len(encs)
        widths = [padded_length(len(e.ids), self.max_tokens) for e in encs]
        for chunk in length_batches(widths, self.batch_size):
            width = widths[chunk[0]]
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chunk):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            (hidden,) = self._session.run(["last_hidden_state"], feed)
            for row, i in enumerate(chunk):
                out[i] = np.asarray(hidden[row, : len(encs[i].ids)], dtype=np.float32)
        return [o for o in out if o is not None]

    def embed(self, texts: Sequence[str]) -> FloatArray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        hidden = self._forward(self._encode(texts))
        vecs = np.stack([h.mean(axis=0) for h in hidden]).astype(np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenEmbeddings]:
        texts = list(texts)
        if not texts:
            return []
        encs = self._encode(texts)
        hidden = self._forward(encs)
        return [
            TokenEmbeddings(vectors=h, offsets=np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2))
            for h, e in zip(hidden, encs, strict=True)
        ]
