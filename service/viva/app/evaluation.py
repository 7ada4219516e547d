"""Agreement with human graders: load graded data, fit the calibration, report metrics.

Data rows carry a question and a reference answer (no bank), so rubric points come from the
reference (reference-answer mode). Features are computed once; fitting and cross-validation
only re-score them, which is cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from viva.core.calibration import (
    FEATURES,
    Calibration,
    Sample,
    best_threshold,
    fit_samples,
    predict_scores,
    with_fit,
)
from viva.core.grader import GradeFeatures, Grader, GradeRequest
from viva.core.metrics import classification_report, regression_report
from viva.core.reference import points_from_reference
from viva.domain.models import Question, RubricPoint
from viva.errors import InvalidInputError

ZERO_FLAGS = {"empty", "dont_know"}


@dataclass(frozen=True)
class EvalItem:
    dataset: str
    question_key: str
    request: GradeRequest
    gold: float  # in [0, 1]
    label: bool | None  # correct/incorrect data


def load_graded(path: Path) -> list[EvalItem]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    questions: dict[str, Question] = {}
    items: list[EvalItem] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}: line {n}: invalid JSON: {exc.msg}") from None
        missing = [
            k
            for k in ("question", "reference_answer", "answer")
            if not row.get(k) and k != "answer"
        ]
        if "answer" not in row:
            missing.append("answer")
        if "score" not in row and "label" not in row:
            missing.append("score or label")
        if missing:
            raise InvalidInputError(f"{path}: line {n}: missing {', '.join(missing)}")
        dataset = str(row.get("dataset") or path.stem)
        qkey = f"{dataset}:{row.get('question_id') or row['question']}"
        if qkey not in questions:
            questions[qkey] = _question(qkey, row)
        label_raw = row.get("label")
        label = None if label_raw in (None, "") else str(label_raw).lower() == "correct"
        if row.get("score") is not None:
            max_score = float(row.get("max_score") or 1.0)
            gold = float(row["score"]) / max_score
        else:
            gold = 1.0 if label else 0.0
        items.append(
            EvalItem(
                dataset,
                qkey,
                GradeRequest(questions[qkey], str(row["answer"]), dataset, ""),
                min(max(gold, 0.0), 1.0),
                label,
            )
        )
    if not items:
        raise InvalidInputError(f"{path}: no rows")
    return items


def _question(qkey: str, row: dict[str, Any]) -> Question:
    refs = [r for r in (row.get("reference_answers") or []) if isinstance(r, str) and r.strip()]
    ref = str(row["reference_answer"])
    points = points_from_reference(ref)
    others = [r for r in refs if r.strip() != ref.strip()]
    if others and len(points) == 1:
        points = (RubricPoint(id="reference", text=points[0].text, alternatives=tuple(others[:5])),)
    return Question(
        id=hashlib.sha1(qkey.encode()).hexdigest()[:10],
        prompt=str(row["question"]),
        reference_answer=ref,
        points=points,
    )


def compute_features(
    grader: Grader,
    items: Sequence[EvalItem],
    *,
    chunk: int = 256,
    progress: Callable[[int], None] | None = None,
) -> list[GradeFeatures]:
    out: list[GradeFeatures] = []
    for i in range(0, len(items), chunk):
        out.extend(grader.features_many([it.request for it in items[i : i + chunk]]))
        if progress:
            progress(min(chunk, len(items) - i))
    return out


def to_sample(f: GradeFeatures, target: float, cal: Calibration) -> Sample:
    names = list(FEATURES)
    x = np.asarray([[pf.values.get(n, 0.0) for n in names] for pf in f.points], dtype=np.float64)
    w = np.asarray([p.weight for p in f.request.question.points], dtype=np.float64)
    zero = bool(ZERO_FLAGS & set(f.flags)) or not f.spans
    return Sample(x, w, target, zero=zero, cap=cal.keyword_cap if f.keyword_list else None)


def fit(
    items: Sequence[EvalItem], feats: Sequence[GradeFeatures], base: Calibration, name: str
) -> Calibration:
    samples = [to_sample(f, it.gold, base) for it, f in zip(items, feats, strict=True)]
    w, b = fit_samples(samples, FEATURES)
    digest = hashlib.sha1(f"{name}:{w.round(6).tolist()}:{b:.6f}".encode()).hexdigest()[:8]
    cal = with_fit(base, FEATURES, w, b, id=f"fit-{digest}", fitted_on=name)
    labelled = [(s, it.label) for s, it in zip(samples, items, strict=True) if it.label is not None]
    if labelled:
        scores = predict_scores([s for s, _ in labelled], w, b)
        t, _ = best_threshold(list(scores), [bool(lab) for _, lab in labelled])
        cal = replace(cal, pass_threshold=round(t, 4))
    return cal


def scores(grader: Grader, feats: Sequence[GradeFeatures], cal: Calibration) -> list[float]:
    return [grader.from_features(f, cal).score for f in feats]


def report(
    items: Sequence[EvalItem], predicted: Sequence[float], cal: Calibration
) -> dict[str, dict[str, float]]:
    """Metrics per data set and overall: regression for scores, classification for labels."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        groups[it.dataset].append(i)
    if len(groups) > 1:
        groups["overall"] = list(range(len(items)))
    out: dict[str, dict[str, float]] = {}
    threshold = cal.pass_threshold if cal.pass_threshold is not None else 0.5
    for name, idx in groups.items():
        pred = [predicted[i] for i in idx]
        gold = [items[i].gold for i in idx]
        metrics = regression_report(pred, gold)
        labels = [items[i].label for i in idx]
        if all(lab is not None for lab in labels):
            metrics.update(
                classification_report([p >= threshold for p in pred], [bool(x) for x in labels])
            )
        out[name] = metrics
    return out


def cross_validate(
    grader: Grader,
    items: Sequence[EvalItem],
    feats: Sequence[GradeFeatures],
    base: Calibration,
    by: str = "question",
) -> list[float]:
    """Out-of-fold scores: each fold is graded by a calibration fitted without it."""
    key: Callable[[EvalItem], str] = (
        (lambda it: it.question_key) if by == "question" else (lambda it: it.dataset)
    )
    folds: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        folds[key(it)].append(i)
    if len(folds) < 2:
        raise InvalidInputError(f"cross-validation by {by} needs at least 2 {by}s in the data")
    predicted = [0.0] * len(items)
    for _, held in sorted(folds.items()):
        held_set = set(held)
        train = [i for i in range(len(items)) if i not in held_set]
        cal = fit([items[i] for i in train], [feats[i] for i in train], base, "cv")
        for i in held:
            predicted[i] = grader.from_features(feats[i], cal).score
    return predicted
