"""Graded examples on plain arrays: the scale line and the pull of close examples."""

from __future__ import annotations

import pytest

from tests.core.test_scoring import QUESTION
from tests.fakes.embedder import FakeEmbedder
from viva.core import anchors
from viva.core.calibration import Calibration
from viva.core.grader import Grader
from viva.domain.models import GradedExample


def test_scale_stretches_a_compressed_grader_onto_the_human_range() -> None:
    raw = [0.30, 0.35, 0.45, 0.60, 0.65, 0.70, 0.33, 0.62]
    human = [0.0, 0.1, 0.4, 0.85, 0.9, 1.0, 0.05, 0.9]
    s = anchors.fit_scale(raw, human)
    assert s.slope > 1.5
    assert s(0.3) < 0.15 and s(0.68) > 0.85
    assert all(0.0 <= s(x) <= 1.0 for x in (0.0, 0.5, 1.0))


def test_scale_leaves_scores_alone_without_enough_or_sensible_examples() -> None:
    assert anchors.fit_scale([0.2, 0.8], [0.0, 1.0]) == anchors.Scale()
    assert anchors.fit_scale([0.5, 0.5, 0.5], [0.0, 0.5, 1.0]) == anchors.Scale()
    backwards = anchors.fit_scale([0.2, 0.5, 0.8], [1.0, 0.5, 0.0])
    assert backwards == anchors.Scale()


def test_few_examples_move_the_scale_less_than_many() -> None:
    raw, human = [0.3, 0.5, 0.7], [0.0, 0.5, 1.0]
    few = anchors.fit_scale(raw, human)
    many = anchors.fit_scale(raw * 4, human * 4)
    assert 1.0 < few.slope < many.slope < 2.5 + 1e-9


def test_close_examples_pull_and_far_ones_do_not() -> None:
    assert anchors.neighbour_pull([0.5, 0.8], [0.0, 1.0]) is None  # same topic is not enough
    near_copy = anchors.neighbour_pull([0.99, 0.75], [0.0, 1.0])
    assert near_copy is not None and near_copy.weight == 1.0 and near_copy.target < 0.1
    assert near_copy.nearest == 0
    mid = anchors.neighbour_pull([0.9, 0.3], [0.0, 1.0])
    assert mid is not None and 0 < mid.weight < 1 and mid.target == 0.0
    assert anchors.anchored(0.6, anchors.Scale(), mid) < 0.6
    assert anchors.anchored(0.6, anchors.Scale(), None) == 0.6


def test_grader_anchors_scores_and_keeps_points_consistent() -> None:
    cal = Calibration(
        id="anchors",
        weights={"lexical": 3.0, "align_recall": 5.0, "align_precision": 1.5},
        bias=-4.0,
    )
    examples = (
        GradedExample(
            answer="Shuffling stops the model learning the order of examples.", score=0.4
        ),
        GradedExample(
            answer="Mini-batch gradients become less correlated and the model generalises.",
            score=0.9,
        ),
        GradedExample(answer="It makes training faster on the GPU.", score=0.0, note="wrong"),
        GradedExample(answer="Bananas are yellow.", score=0.0),
    )
    q = QUESTION.model_copy(update={"examples": examples})
    grader = Grader(FakeEmbedder(), cal)
    answer = "Shuffling stops the model from learning the order of the examples."
    plain = grader.grade(QUESTION, answer)
    g = grader.grade(q, answer)
    assert plain.anchoring is None and g.anchoring is not None
    assert g.anchoring.examples == 4 and g.anchoring.raw_score == pytest.approx(plain.score)
    assert g.anchoring.nearest is not None and g.anchoring.nearest.index == 0
    assert g.score != plain.score
    # Coverages moved with the score: the formula still gives the score, and the unanchored
    # coverage stays visible per point.
    from viva.core import scoring

    assert g.score == scoring.score(g.points)
    ratio = g.score / plain.score
    for anchored_p, plain_p in zip(g.points, plain.points, strict=True):
        assert anchored_p.coverage == pytest.approx(min(plain_p.coverage * ratio, 1.0), abs=2e-4)
        assert anchored_p.embedding_coverage == anchored_p.coverage  # the base an LLM adjusts
    assert grader.grade(q, answer) == g  # deterministic, and the example cache is reused
