"""Graded examples ("anchors"): an answer close to one a person scored is pulled to that score,
and the strong examples of a one-point question are further phrasings of its point.

A bank question may carry example answers with the score a person gave them. An answer very
close in meaning to a graded example is pulled toward that example's score, the closer the
harder: a fluent answer that says what a known wrong answer says gets that answer's grade, and
the example's note explains why. Plain arithmetic on arrays, tested without a model.

There is no per-question line from raw to human scores any more. Leave one example out on the
graded examples of three banks (`bench/anchor_line.py`, shipped calibration fit-09a7306b), the
line lowered Pearson r against the human scores on every bank (pull alone vs pull plus line:
keras 0.679 vs 0.600, ml-fundamentals 0.735 vs 0.626, python 0.771 vs 0.708) while mean absolute
error moved by at most 0.004: with eight or so examples per question, the line fits their noise.

Nor do softer pulls help on data the banks did not write. Fitting (NEIGHBOUR_FROM,
NEIGHBOUR_FULL, NEIGHBOUR_SHARPNESS) on the banks' examples, leave one out, over a grid from 0.3
to 0.85 for the start: the best (0.85, 1.3) reached r 0.758 there against 0.754 for these values
and 0.758 raw; on Mohler with 5 anchors per question (`viva eval --anchors 5`, the other rows)
it gave 0.575 against 0.566 for these values and 0.571 raw. Mohler's answers to one question sit
at 0.5-0.8 from each other whatever their grades, so five examples seldom say much about a sixth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from viva.core import scoring
from viva.domain.models import Question

FloatArray = npt.NDArray[np.float64]


def with_strong_examples(q: Question) -> Question:
    """A one-point question with its strong graded examples (scored STRONG or more) as further
    phrasings of that point: an answer a person scored strong is another way of making it, so
    an answer that says what it says makes the point too, in words the reference never used.

    On Mohler with 5 graded examples per question (`viva eval --anchors 5`, leave one question
    out, metrics on the other rows) Pearson r went from 0.584 to 0.672 when this was adopted.
    Whole answers, and the cut at STRONG, were chosen there among nine variants (0.58-0.67:
    sentences assigned to the point they are nearest gave 0.61-0.65 by cut-off; 0.6 and 0.7 as
    the score cut 0.58 and 0.60 with sentences), so that figure is somewhat optimistic. A
    question with several points is left as it is: a whole answer is not a phrasing of each."""
    if len(q.points) != 1 or not q.examples:
        return q
    point = q.points[0]
    strong = [ex.answer.strip() for ex in q.examples if ex.score >= scoring.STRONG]
    extra = [a for a in dict.fromkeys(strong) if a and a not in point.phrasings]
    if not extra:
        return q
    point = point.model_copy(update={"alternatives": (*point.alternatives, *extra)})
    return q.model_copy(update={"points": (point,)})


NEIGHBOUR_FROM = 0.85
"""Cosine similarity at which an example starts to pull. MiniLM puts answers to the same question
at 0.6-0.85 whether or not they agree (a strong answer and one that misses a point share most
words), so only answers that say nearly the same thing in nearly the same words pull."""

NEIGHBOUR_FULL = 0.97
"""Cosine similarity at which the nearest example decides the score alone (a near copy)."""

NEIGHBOUR_SHARPNESS = 20.0
"""Softmax sharpness over similarities: the nearest examples dominate the pulled score."""


@dataclass(frozen=True)
class Pull:
    """How far the neighbours moved a score, for the grade's explanation."""

    weight: float  # 0: no pull; 1: the neighbours decide
    target: float  # the similarity-weighted score of the pulling examples
    nearest: int  # index of the most similar example
    similarity: float


def neighbour_pull(similarities: Sequence[float], scores: Sequence[float]) -> Pull | None:
    """The pull of the graded examples on one answer, or None when none is close enough."""
    sims = np.asarray(similarities, dtype=np.float64)
    if len(sims) == 0:
        return None
    nearest = int(np.argmax(sims))
    top = float(sims[nearest])
    if top < NEIGHBOUR_FROM:
        return None
    close = sims >= NEIGHBOUR_FROM
    w = np.exp(NEIGHBOUR_SHARPNESS * (sims[close] - top))
    target = float(w @ np.asarray(scores, dtype=np.float64)[close] / w.sum())
    weight = min((top - NEIGHBOUR_FROM) / (NEIGHBOUR_FULL - NEIGHBOUR_FROM), 1.0)
    return Pull(weight=round(weight, 4), target=round(target, 4), nearest=nearest, similarity=top)


def anchored(raw: float, pull: Pull | None) -> float:
    """The raw score pulled toward close examples."""
    s = raw
    if pull is not None:
        s = (1 - pull.weight) * s + pull.weight * pull.target
    return float(min(max(s, 0.0), 1.0))


def scaled_to(
    coverages: Sequence[float], weights: Sequence[float], target: float, cap: float = 1.0
) -> FloatArray:
    """Coverages times one ratio, each at most `cap`, whose weighted mean is `target` (or as
    near as the cap allows). One ratio keeps their order and which are missed; solving for
    it, rather than taking target / mean, keeps the score on the target when points made in
    full cannot rise past 100% (an exact copy of an example scored 0.95 read 0.84 otherwise)."""
    c = np.asarray(coverages, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    live = c > 0
    if total <= 0 or not np.any(live):
        return c
    # The weighted mean of min(c * r, cap) is piecewise linear in r: with the k largest
    # coverages at the cap, r = (target * total - cap * their weight) / (the rest's sum w * c).
    order = np.argsort(-c[live], kind="stable")
    cs, ws = c[live][order], w[live][order]
    wc = ws * cs
    for k in range(len(cs) + 1):
        rest = float(wc[k:].sum())
        if rest <= 0:
            break
        r = (target * total - cap * float(ws[:k].sum())) / rest
        if r >= 0 and (k == len(cs) or cs[k] * r <= cap) and (k == 0 or cs[k - 1] * r >= cap):
            return np.minimum(c * r, cap)
    return np.where(live, cap, 0.0)  # the target is out of reach: every point made in full
