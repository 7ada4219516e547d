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
import numpy.typing as npt

from viva.core import scoring
from viva.core.calibration import (
    FEATURES,
    Calibration,
    best_threshold,
    fit_misconception_rule,
    fit_samples,
    fit_stretch,
    null_floor,
    predict_scores,
    with_fit,
)
from viva.core.grader import GradeFeatures, Grader, GradeRequest, to_sample
from viva.core.guards import SentenceHead
from viva.core.metrics import classification_report, pearson, regression_report
from viva.core.reference import points_from_reference
from viva.domain.models import Bank, GradedExample, Question, RubricPoint
from viva.errors import InvalidInputError


@dataclass(frozen=True)
class EvalItem:
    dataset: str
    question_key: str
    request: GradeRequest
    gold: float  # in [0, 1]
    label: bool | None  # correct/incorrect data
    graders: tuple[float, ...] = ()  # each human grader's score in [0, 1], when the data has them


def load_graded(path: Path, *, anchors: int = 0) -> list[EvalItem]:
    """Graded rows. With `anchors` K, each question's first K rows (file order) become its
    graded examples and are left out of the items, so metrics cover the other rows only."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    questions: dict[str, Question] = {}
    examples: dict[str, list[GradedExample]] = defaultdict(list)
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
        gold = min(max(gold, 0.0), 1.0)
        answer = str(row["answer"])
        taken = examples[qkey]
        if (
            len(taken) < anchors
            and answer.strip()
            and all(e.answer.strip() != answer.strip() for e in taken)
        ):
            taken.append(GradedExample(answer=answer, score=gold))
            continue
        graders: tuple[float, ...] = ()
        raw = row.get("scores")
        if isinstance(raw, list) and len(raw) >= 2 and row.get("max_score"):
            graders = tuple(min(max(float(x) / float(row["max_score"]), 0.0), 1.0) for x in raw)
        items.append(
            EvalItem(
                dataset,
                qkey,
                GradeRequest(questions[qkey], answer, dataset, ""),
                gold,
                label,
                graders,
            )
        )
    if not items:
        raise InvalidInputError(f"{path}: no rows")
    if anchors:
        with_examples = {
            k: q.model_copy(update={"examples": tuple(examples[k])}) for k, q in questions.items()
        }
        items = [
            replace(
                it,
                request=replace(it.request, question=with_examples[it.question_key]),
            )
            for it in items
        ]
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


def fit(
    items: Sequence[EvalItem], feats: Sequence[GradeFeatures], base: Calibration, name: str
) -> Calibration:
    """Weights and bias fitted to the human scores (and a pass threshold for labels), under
    `base`'s floor and stretch; every other field is `base`'s."""
    samples = [to_sample(f, it.gold, base) for it, f in zip(items, feats, strict=True)]
    floor = base.floor
    try:
        w, b = fit_samples(samples, FEATURES, floor=floor, stretch=base.stretch)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None
    digest = hashlib.sha1(f"{name}:{w.round(6).tolist()}:{b:.6f}:{floor}".encode()).hexdigest()[:8]
    cal = with_fit(base, FEATURES, w, b, id=f"fit-{digest}", fitted_on=name)
    labelled = [(s, it.label) for s, it in zip(samples, items, strict=True) if it.label is not None]
    if labelled:
        scores = predict_scores([s for s, _ in labelled], w, b, floor, base.stretch)
        t, _ = best_threshold(list(scores), [bool(lab) for _, lab in labelled])
        cal = replace(cal, pass_threshold=round(t, 4))
    return cal


def fit_on_banks(
    grader: Grader, banks: Sequence[Bank], cal: Calibration, *, stretch: bool = True
) -> Calibration:
    """What the banks decide, for the fitted weights: the floor (coverage that a point gets from
    answers to the bank's other questions, which never make it, reads 0%), the misconception
    threshold (graded examples tagged with a misconception should fire it, and no other
    example should fire any), and the stretch of covered points (`fit_stretch`: the examples'
    scores, without their own anchoring, nearest what people gave them). The caller then
    refits the pass threshold under the result."""
    sims: list[float] = []
    point_sims: list[float] = []
    shown: list[bool] = []
    good: list[bool] = []
    null: list[float] = []
    graded: list[tuple[GradeFeatures, float]] = []
    for bank in banks:
        answers = [(q.id, ex.answer) for q in bank.questions for ex in q.examples]
        for q in bank.questions:
            if not q.examples:
                continue
            bare = q.model_copy(update={"examples": ()})
            own = grader.features_many([GradeRequest(bare, ex.answer) for ex in q.examples])
            for ex, f in zip(q.examples, own, strict=True):
                graded.append((f, ex.score))
                for m, (sim, _, p_sim) in zip(q.misconceptions, f.misconception_sims, strict=True):
                    sims.append(sim)
                    point_sims.append(p_sim)
                    shown.append(ex.misconception == m.id)
                    good.append(ex.score >= scoring.STRONG)
            others = [a for qid, a in answers if qid != q.id][:: max(1, len(answers) // 40)]
            for f in grader.features_many([GradeRequest(bare, a) for a in others]):
                null.extend(cal.coverage(pf.values) for pf in f.points if pf.evidence is not None)
    if not null:
        raise InvalidInputError("no bank has graded examples to fit on")
    floor = null_floor(null)
    t, margin, recall = fit_misconception_rule(sims, point_sims, shown, good)
    cal = replace(
        cal, floor=floor, misconception_threshold=round(t, 4), misconception_margin=margin
    )
    fitted_on = (
        f"{cal.fitted_on}; floor: {len(null)} point coverages from answers to other questions "
        f"(quantile {scoring.NULL_QUANTILE}); misconception threshold: {sum(shown)} graded "
        f"examples showing a misconception (margin {margin}, recall {recall:.3f} at precision "
        f">= {scoring.MISCONCEPTION_PRECISION}, above every example scored >= {scoring.STRONG})"
    )
    if not stretch:
        return replace(cal, fitted_on=fitted_on)

    def scores_under(c: Calibration) -> npt.NDArray[np.float64]:
        return np.asarray([grader.from_features(f, c, anchor=False).score for f, _ in graded])

    cal, before, after = fit_stretch(cal, scores_under, [y for _, y in graded])
    return replace(
        cal,
        fitted_on=f"{fitted_on}; stretch {cal.stretch} on {len(graded)} graded examples "
        f"(squared error {before} -> {after})",
    )


def refit_pass_threshold(
    items: Sequence[EvalItem], feats: Sequence[GradeFeatures], cal: Calibration
) -> Calibration:
    """The pass threshold for labelled data, under `cal` as it now is (its floor included)."""
    labelled = [(f, it.label) for it, f in zip(items, feats, strict=True) if it.label is not None]
    if not labelled:
        return cal
    w = np.asarray([cal.weights.get(n, 0.0) for n in FEATURES])
    samples = [to_sample(f, 0.0, cal) for f, _ in labelled]
    t, _ = best_threshold(
        list(predict_scores(samples, w, cal.bias, cal.floor, cal.stretch)),
        [bool(x) for _, x in labelled],
    )
    return replace(cal, pass_threshold=round(t, 4))


def scores(grader: Grader, feats: Sequence[GradeFeatures], cal: Calibration) -> list[float]:
    return [grader.from_features(f, cal).score for f in feats]


def report(
    items: Sequence[EvalItem],
    predicted: Sequence[float],
    cal: Calibration,
    passed: Sequence[bool] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics per data set and overall: regression for scores, classification for labels
    (each answer's pass decision from `passed` when given, else `cal`'s pass threshold)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        groups[it.dataset].append(i)
    if len(groups) > 1:
        groups["overall"] = list(range(len(items)))
    out: dict[str, dict[str, float]] = {}
    threshold = cal.pass_threshold if cal.pass_threshold is not None else scoring.COVERED
    for name, idx in groups.items():
        pred = [predicted[i] for i in idx]
        gold = [items[i].gold for i in idx]
        metrics = regression_report(pred, gold)
        graded_twice = [i for i in idx if len(items[i].graders) >= 2]
        if graded_twice and len(graded_twice) == len(idx):
            # Like with like: Viva against each single grader, next to grader against grader.
            a = [items[i].graders[0] for i in idx]
            b = [items[i].graders[1] for i in idx]
            metrics["pearson_grader_a"] = pearson(pred, a)
            metrics["pearson_grader_b"] = pearson(pred, b)
            metrics["pearson_a_vs_b"] = pearson(a, b)
        labels = [items[i].label for i in idx]
        if all(lab is not None for lab in labels):
            decided = (
                [passed[i] for i in idx] if passed is not None else [p >= threshold for p in pred]
            )
            metrics.update(classification_report(decided, [bool(x) for x in labels]))
        out[name] = metrics
    return out


def cross_validate(
    grader: Grader,
    items: Sequence[EvalItem],
    feats: Sequence[GradeFeatures],
    base: Calibration,
    by: str = "question",
    max_folds: int = 50,
) -> CrossValidated:
    """Out-of-fold scores and pass decisions: each fold is graded, and its labelled answers
    judged correct or not, by a calibration (pass threshold included) fitted without it.

    One fold per question (or data set) up to `max_folds`; beyond that, questions are dealt
    round-robin into `max_folds` folds, still never split across training and testing.
    """
    key: Callable[[EvalItem], str] = (
        (lambda it: it.question_key) if by == "question" else (lambda it: it.dataset)
    )
    groups = sorted({key(it) for it in items})
    fold_of = {g: (n % max_folds if len(groups) > max_folds else n) for n, g in enumerate(groups)}
    folds: dict[int, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        folds[fold_of[key(it)]].append(i)
    if len(folds) < 2:
        raise InvalidInputError(f"cross-validation by {by} needs at least 2 {by}s in the data")
    predicted = [0.0] * len(items)
    passed = [False] * len(items)
    for _, held in sorted(folds.items()):
        held_set = set(held)
        train = [i for i in range(len(items)) if i not in held_set]
        cal = fit([items[i] for i in train], [feats[i] for i in train], base, f"cv by {by}")

        for i in held:
            predicted[i] = grader.from_features(feats[i], cal).score
            passed[i] = scoring.passes(predicted[i], cal.pass_threshold)
    return CrossValidated(predicted, passed)


@dataclass(frozen=True)
class CrossValidated:
    scores: list[float]
    passed: list[bool]  # by the fold's own pass threshold, never one fitted on the held-out rows


def fit_guard(
    grader: Grader, corpus: Path, data: Sequence[Path], banks: Sequence[Bank]
) -> tuple[SentenceHead, dict[str, int]]:
    """The injection head, from scratch: the corpus's grader-directed sentences against its
    answer-like ones, every sentence of the data files' answers and the banks' graded examples
    (all answers to questions, none addressed to a grader)."""
    import yaml

    from viva.core.guards import fit_injection_head
    from viva.core.text import split_sentences

    try:
        doc = yaml.safe_load(corpus.read_text(encoding="utf-8"))
        positive = [str(s) for s in doc["addressed_to_grader"]]
        written = [str(s) for s in doc["answer_text_with_grading_words"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{corpus}: not a guard corpus: {exc}") from None
    answers = {it.request.answer for path in data for it in load_graded(path)}
    answers |= {ex.answer for b in banks for q in b.questions for ex in q.examples}
    sentences = sorted({s.text for a in answers for s in split_sentences(a)} - set(positive))
    neg = grader.sentence_vectors(written + sentences)
    head = fit_injection_head(grader.sentence_vectors(positive), neg)
    return head, {"positive": len(positive), "negative": len(neg)}


def fit_vague(
    grader: Grader, corpus: Path, data: Sequence[Path], banks: Sequence[Bank]
) -> tuple[SentenceHead, dict[str, int]]:
    """The vagueness head, from scratch: the corpus's filler sentences against every sentence
    of the answers people graded strong in the data files and the banks (a wrong answer may
    well be vague, so only strong ones are sure negatives)."""
    import yaml

    from viva.core.guards import fit_vague_head
    from viva.core.text import split_sentences

    try:
        doc = yaml.safe_load(corpus.read_text(encoding="utf-8"))
        positive = [str(s) for s in doc["vague_filler"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{corpus}: not a guard corpus: {exc}") from None
    answers = {
        it.request.answer for path in data for it in load_graded(path) if it.gold >= scoring.STRONG
    }
    answers |= {
        ex.answer for b in banks for q in b.questions for ex in q.examples if ex.score >= 0.5
    }
    sentences = sorted({s.text for a in answers for s in split_sentences(a)} - set(positive))
    head = fit_vague_head(grader.sentence_vectors(positive), grader.sentence_vectors(sentences))
    return head, {"positive": len(positive), "negative": len(sentences)}
