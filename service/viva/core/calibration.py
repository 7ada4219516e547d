"""The similarity→coverage mapping, and fitting it to human grades.

Coverage is a logistic function of a few per-point features rather than a hard cut-off, so a
point that is almost made earns almost full credit and a grade moves smoothly with the answer.
The fitting functions take plain arrays (no model), like the threshold searches of
sentence-transformers' evaluators.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from viva.core import scoring
from viva.core.metrics import macro_f1

# The features a calibration is fitted on. "semantic" (best span cosine) is still computed, to
# pick the evidence span and to judge topicality, but it adds nothing to the score once token
# alignment is there (it only took weight from the alignment features), so it is not fitted;
# a calibration file may still weight it.
FEATURES = ("lexical", "align_recall", "align_precision")
KNOWN_FEATURES = ("semantic", *FEATURES)


@dataclass(frozen=True)
class Calibration:
    id: str = "builtin-0"
    weights: Mapping[str, float] = field(default_factory=lambda: {"semantic": 12.0, "lexical": 2.0})
    bias: float = -7.5
    misconception_threshold: float = scoring.MISCONCEPTION
    misconception_margin: float = 0.0  # fires only this much closer to it than to the rubric
    off_topic_threshold: float = scoring.OFF_TOPIC
    keyword_cap: float = scoring.KEYWORD_CAP
    evidence_min: float = scoring.EVIDENCE_MIN
    pass_threshold: float | None = None  # for correct/incorrect data: score >= this is "correct"
    floor: float = 0.0  # fitted (null_floor): coverage below it means "not made" (scoring.floored)
    stretch: float = 1.0  # fitted (fit_stretch): covered points, person-scaled (scoring.stretched)
    fitted_on: str = ""

    def coverage(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        p = 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
        return float(scoring.stretched(scoring.floored(p, self.floor), self.stretch))

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
        bad = set(weights) - set(KNOWN_FEATURES)
        if bad:
            raise ValueError(f"unknown calibration features: {', '.join(sorted(bad))}")
        stretch = data.get("stretch", 1.0)
        if (
            isinstance(stretch, bool)
            or not isinstance(stretch, int | float)
            or not (1.0 <= float(stretch) < math.inf)
        ):
            raise ValueError(f"calibration 'stretch' must be a number >= 1, got {stretch!r}")
        return cls(
            **{
                **data,
                "weights": {k: float(v) for k, v in weights.items()},
                "stretch": float(stretch),
            }
        )


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
    """sigmoid(x·w + b) fitted to targets in [0, 1] (scikit-learn, soft labels).

    Graded scores are not labels: each row enters twice, as "made" with weight y and as "not
    made" with weight 1 - y, which is cross-entropy against the soft target. Features are
    standardised for the solver and the weights mapped back to the raw scale.
    """
    from sklearn.linear_model import LogisticRegression  # only fitting needs it

    x = np.asarray(x, dtype=np.float64)
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mu) / sd
    model = LogisticRegression(
        C=1.0 / (l2 * len(y)) if l2 > 0 else np.inf,
        max_iter=iterations,
        tol=1e-10,
    )
    model.fit(
        np.concatenate([xs, xs]),
        np.concatenate([np.ones(len(y)), np.zeros(len(y))]),
        sample_weight=np.concatenate([y, 1.0 - y]) + 1e-12,
    )
    w = np.asarray(model.coef_[0], dtype=np.float64)
    b = float(model.intercept_[0])
    return w / sd, b - float((mu / sd) @ w)


def best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """Threshold on score maximising macro-F1 for correct/incorrect labels."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    best_t, best_f = scoring.COVERED, -1.0
    for t in np.unique(np.round(s, 4)):
        f = macro_f1(y, s >= t)
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t, best_f


def fit_misconception_threshold(
    sims: Sequence[float],
    point_sims: Sequence[float],
    shown: Sequence[bool],
    good: Sequence[bool] | None = None,
) -> tuple[float, float]:
    """The cosine from which a misconception fires, fitted on graded examples: the lowest
    threshold whose firings are right at least MISCONCEPTION_PRECISION of the time (a false
    "you said X" on a correct answer costs more trust than a miss), and above every answer
    a person graded as strong (`good`), which must never be told it said something wrong.
    Returns it and its recall.

    One row per (example, misconception): the best span's similarity to the misconception, that
    span's similarity to the nearest rubric statement (a point's wording or a reference-answer
    sentence), and whether a person tagged the example with this misconception. A misconception
    fires when the span is at least the threshold and closer to it than to any of those (the
    grader's rule).
    """
    s = np.asarray(sims, dtype=np.float64)
    closer = s > np.asarray(point_sims, dtype=np.float64)
    y = np.asarray(shown, dtype=bool)
    if not y.any():
        raise ValueError("no graded example shows a misconception: nothing to fit on")
    strong = closer & ~y & np.asarray(good if good is not None else [False] * len(s), dtype=bool)
    # Thresholds are stored to ROUND places; the smallest one above every strong answer.
    above = (
        np.ceil(s[strong].max() * 10**scoring.ROUND + 1e-6) / 10**scoring.ROUND
        if strong.any()
        else -1.0
    )
    for t in np.unique(np.round(s[closer], scoring.ROUND)):  # ascending: first that holds wins
        t = max(float(t), above)
        pred = closer & (s >= t)
        tp = float((pred & y).sum())
        if tp and tp / float(pred.sum()) >= scoring.MISCONCEPTION_PRECISION:
            return t, tp / float(y.sum())
    return 1.0, 0.0  # nothing fires reliably enough: never fire


def fit_misconception_rule(
    sims: Sequence[float],
    point_sims: Sequence[float],
    shown: Sequence[bool],
    good: Sequence[bool] | None = None,
) -> tuple[float, float, float]:
    """Threshold and margin together: a span fires a misconception when it is at least the
    threshold from it and more than the margin closer to it than to every rubric statement of
    what is right (a point's wording or a sentence of the reference answer). A
    margin lets a lower threshold hold its precision (a sentence about the topic sits near both
    the point and the wrong claim; one that states the claim sits clearly nearer the claim).
    Returns threshold, margin and recall, each margin fitted as in `fit_misconception_threshold`.
    """
    p = np.asarray(point_sims, dtype=np.float64)
    best = (1.0, 0.0, 0.0)
    for margin in scoring.MISCONCEPTION_MARGINS:
        t, recall = fit_misconception_threshold(sims, list(p + margin), shown, good)
        if recall > best[2]:
            best = (t, margin, recall)
    return best


def stamped(cal: Calibration) -> Calibration:
    """The id from every fitted value (weights, floor, thresholds), so two calibrations that
    grade differently never share an id in provenance."""
    content = {k: v for k, v in cal.to_dict().items() if k not in ("id", "fitted_on")}
    digest = hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    return replace(cal, id=f"fit-{digest}")


def with_fit(
    base: Calibration, names: Sequence[str], w: npt.NDArray[np.float64], b: float, **extra: Any
) -> Calibration:
    return replace(
        base,
        weights={n: round(float(v), 6) for n, v in zip(names, w, strict=True)},
        bias=round(float(b), 6),
        **extra,
    )


def fit_stretch(
    cal: Calibration,
    scores_under: Callable[[Calibration], npt.NDArray[np.float64]],
    targets: Sequence[float],
) -> tuple[Calibration, float, float]:
    """The stretch (over scoring.STRETCHES) whose scores are nearest the human scores in
    squared error, with that error before and after. `scores_under` grades the same answers
    under a candidate calibration; on a tie the smaller stretch is kept."""
    y = np.asarray(targets, dtype=np.float64)
    if not len(y):
        raise ValueError("no graded examples to fit the stretch on")

    def error(c: Calibration) -> float:
        return float(np.mean((scores_under(c) - y) ** 2))

    before = error(replace(cal, stretch=1.0))
    best, best_err = replace(cal, stretch=1.0), before
    for t in scoring.STRETCHES:
        c = replace(cal, stretch=t)
        e = error(c)
        if e < best_err - 1e-12:
            best, best_err = c, e
    return best, round(before, 4), round(best_err, 4)


@dataclass(frozen=True)
class Sample:
    """One graded answer as the fit sees it: per-point features and the human score in [0,1]."""

    x: npt.NDArray[np.float64]  # (points, len(names))
    weights: npt.NDArray[np.float64]  # (points,)
    target: float
    zero: bool = False  # guards forced the score to 0 (blank, "I don't know", off-topic...)
    cap: float | None = None  # keyword lists: coverage capped


def _stack(samples: Sequence[Sample]) -> tuple[Any, Any, Any, Any]:
    """All samples' points in one matrix, so scoring a calibration is a few array operations."""
    live = [i for i, s in enumerate(samples) if not s.zero and len(s.x)]
    if not live:
        return np.zeros((0, 1)), np.zeros(0), np.zeros(0, dtype=np.int64), np.ones(0)
    x = np.concatenate([samples[i].x for i in live])
    w = np.concatenate([samples[i].weights for i in live])
    owner = np.concatenate([np.full(len(samples[i].x), i) for i in live])
    cap = np.concatenate(
        [
            np.full(len(samples[i].x), samples[i].cap if samples[i].cap is not None else 1.0)
            for i in live
        ]
    )
    return x, w, owner, cap


def predict_scores(
    samples: Sequence[Sample],
    w: npt.NDArray[np.float64],
    b: float,
    floor: float = 0.0,
    stretch: float = 1.0,
) -> npt.NDArray[np.float64]:
    x, pw, owner, cap = _stack(samples)
    return _scores_from_stack(x, pw, owner, cap, len(samples), w, b, floor, stretch)


def _scores_from_stack(
    x: Any,
    pw: Any,
    owner: Any,
    cap: Any,
    n: int,
    w: npt.NDArray[np.float64],
    b: float,
    floor: float = 0.0,
    stretch: float = 1.0,
) -> npt.NDArray[np.float64]:
    if len(x) == 0:
        return np.zeros(n)
    cov = scoring.stretched(scoring.floored(predict(w, b, x), floor), stretch)
    return scoring.scores(np.minimum(cov, cap), pw, owner, n)


def null_floor(null_coverage: Sequence[float]) -> float:
    """The floor from coverages that points get from answers to other questions (which never
    make them): NULL_QUANTILE of those read 0%."""
    if not len(null_coverage):
        raise ValueError("no answers to other questions to set the floor from")
    return round(float(np.quantile(np.asarray(null_coverage), scoring.NULL_QUANTILE)), 4)


def fit_samples(
    samples: Sequence[Sample],
    names: Sequence[str],
    *,
    l2: float = 1e-3,
    floor: float = 0.0,
    stretch: float = 1.0,
) -> tuple[npt.NDArray[np.float64], float]:
    """Weights and bias minimising squared error of whole-answer scores (multi-point aware)."""
    from scipy.optimize import minimize  # only fitting needs it

    usable = [s for s in samples if not s.zero and len(s.x)]
    if len(usable) < 5:
        raise ValueError(f"need at least 5 gradable answers to calibrate, got {len(usable)}")
    # Start from a one-point-per-answer logistic fit on the best point: a good basin.
    x0 = np.stack([s.x[int(np.argmax(s.x[:, 0]))] for s in usable])
    y0 = np.asarray([s.target for s in usable])
    w0, b0 = fit_logistic(x0, y0, l2=l2)
    scale = np.abs(x0).std(axis=0) + 1e-9

    stacked = _stack(usable)

    def loss(theta: npt.NDArray[np.float64]) -> float:
        w, b = theta[:-1], float(theta[-1])
        pred = _scores_from_stack(*stacked, len(usable), w, b, floor, stretch)
        return float(np.mean((pred - y0) ** 2) + l2 * np.sum((w * scale) ** 2))

    res = minimize(
        loss,
        np.append(w0, b0),
        method="Nelder-Mead",
        options={"maxiter": 4000, "xatol": 1e-4, "fatol": 1e-7},
    )
    theta = res.x if res.fun <= loss(np.append(w0, b0)) else np.append(w0, b0)
    return np.asarray(theta[:-1], dtype=np.float64), float(theta[-1])
