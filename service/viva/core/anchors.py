"""Graded examples ("anchors") that put a question's scores on its own human scale.

A bank question may carry example answers with the score a person gave them. They are used two
ways, both plain arithmetic on arrays (tested without a model):

- **Scale:** the grader's raw scores of the examples against their human scores give a line
  (least squares, shrunk toward "no change" when there are few examples), so an excellent
  answer reads about 0.9 and a wrong one about 0.1 on every question, whatever its rubric.
- **Neighbours:** an answer very close in meaning to a graded example is pulled toward that
  example's score, the closer the harder: a fluent answer that says what a known wrong answer
  says gets that answer's grade, and the example's note explains why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MIN_EXAMPLES = 3
"""Fewer graded examples than this leave the scale alone: two points fit any line."""

SHRINK = 2.0
"""The fitted line counts as this many examples' worth of evidence against "no change", so
three examples move the scale cautiously and a dozen move it most of the way."""

NEIGHBOUR_FROM = 0.85
"""Cosine similarity at which an example starts to pull. MiniLM puts answers to the same question
at 0.6-0.85 whether or not they agree (a strong answer and one that misses a point share most
words), so only answers that say nearly the same thing in nearly the same words pull."""

NEIGHBOUR_FULL = 0.97
"""Cosine similarity at which the nearest example decides the score alone (a near copy)."""

NEIGHBOUR_SHARPNESS = 20.0
"""Softmax sharpness over similarities: the nearest examples dominate the pulled score."""


@dataclass(frozen=True)
class Scale:
    slope: float = 1.0
    intercept: float = 0.0

    def __call__(self, raw: float) -> float:
        return float(min(max(self.slope * raw + self.intercept, 0.0), 1.0))


def fit_scale(raw: Sequence[float], human: Sequence[float]) -> Scale:
    """A line from the grader's raw scores to human scores, shrunk toward the identity."""
    r = np.asarray(raw, dtype=np.float64)
    h = np.asarray(human, dtype=np.float64)
    n = len(r)
    if n < MIN_EXAMPLES or float(r.std()) < 1e-6:
        return Scale()
    slope, intercept = np.polyfit(r, h, 1)
    if slope <= 0:  # the grader ranks the examples backwards: no line to trust
        return Scale()
    k = n / (n + SHRINK)
    return Scale(float(k * slope + (1 - k)), float(k * intercept))


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


def anchored(raw: float, scale: Scale, pull: Pull | None) -> float:
    """The raw score on the question's human scale, then pulled toward close examples."""
    s = scale(raw)
    if pull is not None:
        s = (1 - pull.weight) * s + pull.weight * pull.target
    return float(min(max(s, 0.0), 1.0))
