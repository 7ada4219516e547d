"""Agreement between Viva's grades and human grades: plain numpy, testable on arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from viva.core.calibration import macro_f1


def _arr(x: Sequence[float]) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = _arr(x), _arr(y)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks for ties, as Spearman needs."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(list(_rank(_arr(x))), list(_rank(_arr(y))))


def rmse(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = _arr(x), _arr(y)
    return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else float("nan")


def quadratic_weighted_kappa(x: Sequence[float], y: Sequence[float], *, levels: int = 11) -> float:
    """QWK on scores in [0, 1], binned into `levels` equal grades (11 = steps of 0.1)."""
    a = np.clip(np.rint(_arr(x) * (levels - 1)), 0, levels - 1).astype(int)
    b = np.clip(np.rint(_arr(y) * (levels - 1)), 0, levels - 1).astype(int)
    if len(a) == 0:
        return float("nan")
    observed = np.zeros((levels, levels))
    for i, j in zip(a, b, strict=True):
        observed[i, j] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(a)
    idx = np.arange(levels)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (levels - 1) ** 2
    denom = float((weights * expected).sum())
    if denom == 0:
        return float("nan")
    return float(1.0 - (weights * observed).sum() / denom)


def regression_report(pred: Sequence[float], gold: Sequence[float]) -> dict[str, float]:
    return {
        "n": float(len(pred)),
        "pearson": pearson(pred, gold),
        "spearman": spearman(pred, gold),
        "rmse": rmse(pred, gold),
        "qwk": quadratic_weighted_kappa(pred, gold),
    }


def classification_report(pred: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    p = np.asarray(pred, dtype=bool)
    g = np.asarray(gold, dtype=bool)
    return {
        "n": float(len(p)),
        "accuracy": float((p == g).mean()) if len(p) else float("nan"),
        "macro_f1": macro_f1(g, p),
    }
