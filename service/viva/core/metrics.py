"""Agreement between Viva's grades and human grades, from scipy and scikit-learn."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# scipy and scikit-learn are imported where used: together they take most of a second to import,
# and the server (which grades, but computes no agreement) must answer /healthz at once.


def _arr(x: Sequence[float]) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _constant(a: np.ndarray) -> bool:
    return len(a) < 2 or bool(np.all(a == a[0]))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = _arr(x), _arr(y)
    if _constant(a) or _constant(b):
        return float("nan")
    from scipy import stats

    return float(stats.pearsonr(a, b).statistic)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = _arr(x), _arr(y)
    if _constant(a) or _constant(b):
        return float("nan")
    from scipy import stats

    return float(stats.spearmanr(a, b).statistic)


def rmse(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = _arr(x), _arr(y)
    return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else float("nan")


def quadratic_weighted_kappa(x: Sequence[float], y: Sequence[float], *, levels: int = 11) -> float:
    """QWK on scores in [0, 1], binned into `levels` equal grades (11 = steps of 0.1)."""
    a = np.clip(np.rint(_arr(x) * (levels - 1)), 0, levels - 1).astype(int)
    b = np.clip(np.rint(_arr(y) * (levels - 1)), 0, levels - 1).astype(int)
    if len(a) == 0:
        return float("nan")
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 when both sides are constant
        k = cohen_kappa_score(a, b, labels=list(range(levels)), weights="quadratic")
    return float(k) if not math.isnan(k) else float("nan")


def macro_f1(y: npt.NDArray[np.bool_], pred: npt.NDArray[np.bool_]) -> float:
    """Mean F1 of both classes; a class never predicted nor present scores 0."""
    from sklearn.metrics import f1_score

    return float(
        f1_score(
            np.asarray(y, dtype=bool),
            np.asarray(pred, dtype=bool),
            average="macro",
            labels=[True, False],
            zero_division=0.0,
        )
    )


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
