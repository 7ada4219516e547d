"""The similarity→coverage mapping, and fitting it to human grades.

Coverage is a logistic function of a few per-point features rather than a hard cut-off, so a
point that is almost made earns almost full credit and a grade moves smoothly with the answer.
The fitting functions take plain arrays (no model), like the threshold searches of
sentence-transformers' evaluators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

FEATURES = ("semantic", "lexical")


@dataclass(frozen=True)
class Calibration:
    id: str = "builtin-0"
    weights: Mapping[str, float] = field(default_factory=lambda: {"semantic": 12.0, "lexical": 2.0})
    bias: float = -7.5
    misconception_threshold: float = 0.72
    off_topic_threshold: float = 0.25
    keyword_cap: float = 0.35
    evidence_min: float = 0.25
    pass_threshold: float | None = None  # for correct/incorrect data: score >= this is "correct"
    fitted_on: str = ""

    def coverage(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["weights"] = dict(self.weights)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown calibration fields: {', '.join(sorted(unknown))}")
        weights = data.get("weights", {})
        if not isinstance(weights, Mapping) or not weights:
            raise ValueError("calibration 'weights' must be a non-empty mapping")
        bad = set(weights) - set(FEATURES)
        if bad:
            raise ValueError(f"unknown calibration features: {', '.join(sorted(bad))}")
        return cls(**{**data, "weights": {k: float(v) for k, v in weights.items()}})


def predict(
    weights: npt.NDArray[np.float64], bias: float, x: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    z = np.clip(x @ weights + bias, -50, 50)
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def fit_logistic(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    *,
    l2: float = 1e-3,
    iterations: int = 3000,
) -> tuple[npt.NDArray[np.float64], float]:
    """Least-squares fit of sigmoid(x·w + b) to targets in [0, 1] (deterministic Newton-free GD).

    Squared error rather than log-loss because targets are graded scores, not labels, and we
    want the mapping to reproduce their scale.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mu) / sd
    w = np.zeros(x.shape[1])
    b = 0.0
    lr = 0.5
    # Adam on standardised features: converges reliably without tuning.
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    for t in range(1, iterations + 1):
        p = predict(w, b, xs)
        g = (p - y) * p * (1 - p)
        gw = xs.T @ g / len(y) + l2 * w
        gb = float(g.mean())
        mw = 0.9 * mw + 0.1 * gw
        vw = 0.999 * vw + 0.001 * gw**2
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb**2
        w -= lr * (mw / (1 - 0.9**t)) / (np.sqrt(vw / (1 - 0.999**t)) + 1e-8)
        b -= lr * (mb / (1 - 0.9**t)) / (math.sqrt(vb / (1 - 0.999**t)) + 1e-8)
        lr = 0.05 if t > iterations // 2 else 0.1
    # Back to the raw feature scale.
    w_raw = w / sd
    b_raw = b - float((mu / sd) @ w)
    return w_raw, b_raw


def best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """Threshold on score maximising macro-F1 for correct/incorrect labels."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    best_t, best_f = 0.5, -1.0
    for t in np.unique(np.round(s, 4)):
        f = macro_f1(y, s >= t)
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t, best_f


def macro_f1(y: npt.NDArray[np.bool_], pred: npt.NDArray[np.bool_]) -> float:
    fs = []
    for cls in (True, False):
        tp = float(np.sum((pred == cls) & (y == cls)))
        fp = float(np.sum((pred == cls) & (y != cls)))
        fn = float(np.sum((pred != cls) & (y == cls)))
        fs.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(fs))


def with_fit(
    base: Calibration, names: Sequence[str], w: npt.NDArray[np.float64], b: float, **extra: Any
) -> Calibration:
    return replace(
        base,
        weights={n: round(float(v), 6) for n, v in zip(names, w, strict=True)},
        bias=round(float(b), 6),
        **extra,
    )
