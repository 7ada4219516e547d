"""The one home of the score formula and of every threshold that is declared rather than fitted.

Serving (`Grader.from_features`), fitting (`core/calibration.py`), LLM review
(`core/feedback.py`), evaluation and rendering all call this module, so a calibration fitted here
scores exactly as it will be served. It depends on numpy alone (the domain models read
`COVERED` from it), and takes plain numbers, so it is tested on arrays without a model.

Thresholds a calibration fits (coverage weights and bias, the pass threshold) live in
`Calibration`; the ones below are declared once, each with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# --- what a coverage means ------------------------------------------------------------------

COVERED = 0.5
"""A point counts as covered from here. Up to here coverage reads as the chance that the point is
made; above it the calibration's fitted stretch (`stretched`) spreads covered points toward 100%,
so a point made fully reads on a person's scale."""

PARTIAL = 0.25
"""Below COVERED but at least this: shown as partly made (◐) rather than missed."""

STRONG = 0.75
"""A point, an answer or a topic at or above this is strong."""

PASSING = 0.4
"""An answer below this misses most of what was asked: "needs work"."""

Label = Literal["strong", "partial", "needs work"]


def label(score_value: float) -> Label:
    """The one wording of a score, so the number and the word never disagree."""
    if score_value >= STRONG:
        return "strong"
    return "partial" if score_value >= PASSING else "needs work"


# --- declared defaults of a calibration (fitting leaves them as they are) -------------------

KEYWORD_CAP = 0.25
"""A bare list of terms shows vocabulary, not understanding: no point earns more than this,
so a keyword list scores at most this much, however long."""

EVIDENCE_MIN = PARTIAL
"""A span is shown as a point's evidence only from partial coverage up."""

OFF_TOPIC = 0.15
"""A best span-to-question/point cosine below this (MiniLM) is unrelated text."""

NULL_QUANTILE = 0.9
"""The floor is set so that this share of answers to other questions read 0% on a point: what
an answer that does not address a point typically still gets, it does not keep."""

MISCONCEPTION = 0.72
"""Span-to-misconception cosine from which a misconception fires, until `viva calibrate
--banks` fits it on the banks' graded examples that show a misconception."""

MISCONCEPTION_MARGINS = tuple(round(0.01 * i, 2) for i in range(21))
"""How much closer to a misconception than to every rubric point a span must be, tried from 0 to
0.2 when fitting: with the threshold, the pair that fires most often on the graded examples that
show a misconception, at the precision below, wins (the smaller margin on a tie)."""

MISCONCEPTION_PRECISION = 0.9
"""A fitted misconception threshold must be right this often on graded examples: telling a
candidate "you said X" about a correct answer costs more trust than missing a wrong one."""

STRETCHES = tuple(round(1.0 + 0.25 * i, 2) for i in range(13))
"""Tried when fitting the stretch (`stretched`) on the banks' graded examples (1 to 4). A grid
rather than an optimiser: the score surface has steps (the floor, the caps), and the same data
must always give the same file. 1 comes first and is kept on a tie: no stretch."""

# --- off-topic answers ----------------------------------------------------------------------

OFF_TOPIC_INCIDENTAL = 0.2
"""Lexical recall below this for every point means the answer shares at most an incidental word
with the rubric (one content word of a five-word point)."""

OFF_TOPIC_LOOSE = 0.25
"""A best span-to-question/point cosine below this is only loosely near the question…"""

OFF_RUBRIC = 0.32
"""…and soft token precision below this for every point means almost nothing it says aligns with
the rubric: a recipe with a few incidental shared words."""

OFF_TOPIC_MIN_WORDS = 8
"""Terse answers say too little to call off-topic on the loose rule; the calibration judges them."""

# --- answers meant for another question -----------------------------------------------------

OTHER_QUESTION_OWN_MAX = 0.1
"""An answer is said to read as meant for another question of the bank only when it earns at
most this for the question asked: it names why the answer earned nothing, it never moves a
score."""

OTHER_QUESTION_MARGIN = 0.2
"""...and it would not need work (PASSING) as an answer to the other question, whose prompt or
points it is at least this much nearer (best span cosine, `GradeFeatures.topical`). Designed on
Mohler's assignments, whose neighbouring questions share answers ("What does a function
signature include?" beside "How are overloaded functions differentiated by the compiler?"): a
correct answer that also answers its neighbour is what a smaller margin flags."""


def may_read_as_other(own_score: float, own_topical: float | None) -> bool:
    """Whether an answer is worth grading against other questions at all."""
    return own_topical is not None and own_score <= OTHER_QUESTION_OWN_MAX


def reads_as_other(
    own_score: float, own_topical: float | None, others: Sequence[tuple[float, float | None]]
) -> int | None:
    """Which of `others` (score, topical), graded with the same answer, it was meant for: the
    best-scoring one that passes both rules above, the first on a tie; None when none does."""
    if own_topical is None or not may_read_as_other(own_score, own_topical):
        return None
    best: int | None = None
    for i, (s, t) in enumerate(others):
        if t is None or s < PASSING or t - own_topical < OTHER_QUESTION_MARGIN:
            continue
        if best is None or s > others[best][0]:
            best = i
    return best


# --- feature extraction ---------------------------------------------------------------------

QUESTION_DEMOTION = 0.25
"""Words the question already used count a quarter, so repeating the question earns little."""

ROUND = 4
"""Scores and coverages are stored to 4 decimals: stable JSON, byte-identical reruns."""


def clamp01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def floored(p: npt.ArrayLike, floor: float) -> FloatArray:
    """Coverage below the floor is "not made" and reads 0%, not "19% covered": soft token
    alignment never drops to zero on its own, so unrelated text keeps a little coverage."""
    arr = np.asarray(p, dtype=np.float64)
    return np.where(arr >= floor, arr, 0.0) if floor > 0 else arr


def stretched(p: npt.ArrayLike, stretch: float) -> FloatArray:
    """A covered point's coverage on a person's scale: above COVERED, the logit's distance from
    COVERED is multiplied by `stretch` (fitted on the banks' graded examples), so a point made
    fully reads near 100% rather than the 60-70% a SemEval-fitted chance tops out at. At and
    below COVERED nothing moves, so no point changes from missed to covered (or back), and a
    wrong statement in the rubric's words gains no point it did not have."""
    arr = np.asarray(p, dtype=np.float64)
    if stretch == 1.0:
        return arr
    line = np.log(COVERED / (1 - COVERED))
    z = np.log(np.clip(arr, 1e-12, 1 - 1e-12) / np.clip(1 - arr, 1e-12, 1.0))
    up = 1.0 / (1.0 + np.exp(-(line + stretch * (z - line))))
    return np.where(arr > COVERED, up, arr)


def is_covered(coverage: float) -> bool:
    return coverage >= COVERED


def point_coverage(raw: float, *, gradable: bool, cap: float | None = None) -> float:
    """A point's coverage from the calibrated mapping's raw value.

    `gradable` is False when the answer has no span to credit or was judged off-topic; `cap`
    limits what a bare keyword list can earn.
    """
    if not gradable:
        return 0.0
    if cap is not None:
        raw = min(raw, cap)
    return round(raw, ROUND)


class Weighted(Protocol):
    """A point result as the formula sees it."""

    @property
    def weight(self) -> float: ...

    @property
    def coverage(self) -> float: ...


def score(points: Iterable[Weighted], penalties: Iterable[float] = ()) -> float:
    """The score of one answer: weighted mean coverage minus applied penalties, in [0, 1]."""
    pts = list(points)
    total = sum(p.weight for p in pts)
    s = sum(p.weight * p.coverage for p in pts) / total if total else 0.0
    s -= sum(penalties)
    return round(clamp01(s), ROUND)


def scores(
    coverage: FloatArray,
    weights: FloatArray,
    owner: npt.NDArray[np.int64],
    n: int,
    penalties: FloatArray | None = None,
) -> FloatArray:
    """`score` for many answers at once (fitting): points stacked in rows, `owner` is each row's
    answer index. Unrounded, so optimisers see a smooth surface; `score` rounds the same value.
    """
    num = np.bincount(owner, weights=coverage * weights, minlength=n)
    den = np.bincount(owner, weights=weights, minlength=n)
    out = np.divide(num, den, out=np.zeros(n), where=den > 0)
    if penalties is not None:
        out = out - penalties
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def passes(score_value: float, threshold: float | None) -> bool:
    """For correct/incorrect data: a fitted pass threshold, else the covered line."""
    return score_value >= (COVERED if threshold is None else threshold)
