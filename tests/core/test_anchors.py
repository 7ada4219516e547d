"""Graded examples on plain arrays: the pull of close examples, and the grader using it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.test_scoring import QUESTION
from tests.fakes.embedder import FakeEmbedder
from viva.core import anchors
from viva.core.calibration import Calibration
from viva.core.grader import Grader
from viva.domain.models import GradedExample, Question, RubricPoint


def test_close_examples_pull_and_far_ones_do_not() -> None:
    assert anchors.neighbour_pull([0.5, 0.8], [0.0, 1.0]) is None  # same topic is not enough
    near_copy = anchors.neighbour_pull([0.99, 0.75], [0.0, 1.0])
    assert near_copy is not None and near_copy.weight == 1.0 and near_copy.target < 0.1
    assert near_copy.nearest == 0
    mid = anchors.neighbour_pull([0.9, 0.3], [0.0, 1.0])
    assert mid is not None and 0 < mid.weight < 1 and mid.target == 0.0
    assert anchors.anchored(0.6, mid) < 0.6
    assert anchors.anchored(0.6, None) == 0.6  # no close example: the score is left alone


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


def _one_point(examples: tuple[GradedExample, ...]) -> Question:
    return Question(
        id="ptr",
        prompt="What does the star operator return?",
        reference_answer="An alias for the object its operand points to.",
        points=(RubricPoint(id="ref", text="An alias for the object its operand points to."),),
        examples=examples,
    )


def test_strong_examples_become_phrasings_of_a_one_point_question() -> None:
    strong = "The value stored at the memory address held by the pointer."
    q = _one_point(
        (
            GradedExample(answer=strong, score=0.9),
            GradedExample(answer="An alias for the object its operand points to.", score=1.0),
            GradedExample(answer="It multiplies two numbers.", score=0.1),
            GradedExample(answer="It returns something useful.", score=0.74),
        )
    )
    extended = anchors.with_strong_examples(q)
    assert extended.points[0].phrasings == [*q.points[0].phrasings, strong]
    assert extended.examples == q.examples and extended.prompt == q.prompt
    assert anchors.with_strong_examples(_one_point(())) == _one_point(())
    several = QUESTION.model_copy(update={"examples": (GradedExample(answer=strong, score=1.0),)})
    assert len(several.points) > 1 and anchors.with_strong_examples(several) == several


def test_an_answer_worded_like_a_strong_example_makes_the_point(
    fake_embedder: FakeEmbedder,
) -> None:
    cal = Calibration(
        id="refs",
        weights={"lexical": 3.0, "align_recall": 5.0, "align_precision": 1.5},
        bias=-4.0,
    )
    strong = "The value stored at the memory address held by the pointer."
    answer = "It gives the value stored at the memory address the pointer holds."
    grader = Grader(fake_embedder, cal)
    without = grader.grade(_one_point(()), answer)
    with_examples = grader.grade(_one_point((GradedExample(answer=strong, score=0.9),)), answer)
    assert not without.points[0].covered
    assert with_examples.points[0].covered and with_examples.score > without.score


def test_coverages_scale_to_the_anchored_score_even_when_some_are_full() -> None:
    weights = [3.0, 2.0, 2.0, 1.0]
    cov = [1.0, 0.7, 0.55, 0.0]
    out = anchors.scaled_to(cov, weights, 0.8)
    # target / mean would give 0.8 / 0.6875 and lose what the full point cannot take.
    assert float(np.dot(out, weights) / sum(weights)) == pytest.approx(0.8, abs=1e-9)
    assert out[0] == 1.0 and out[3] == 0.0  # a missed point stays missed
    assert out[1] / 0.7 == pytest.approx(out[2] / 0.55)  # one ratio for every point not full
    # Downwards nothing saturates: plain ratio; beyond reach: as near as the cap allows.
    np.testing.assert_allclose(
        anchors.scaled_to(cov, weights, 0.3), np.array(cov) * 0.3 / 0.6875, atol=1e-9
    )
    np.testing.assert_allclose(anchors.scaled_to(cov, weights, 0.99), [1, 1, 1, 0], atol=1e-9)
    np.testing.assert_allclose(anchors.scaled_to(cov, weights, 0.9, cap=0.25), [0.25] * 3 + [0])


def test_the_solved_ratio_reaches_any_target_within_reach() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        cov = rng.uniform(0, 1, n) * (rng.uniform(0, 1, n) > 0.2)
        w = rng.integers(1, 4, n).astype(float)
        reach = float(np.dot(w, cov > 0) / w.sum())  # every point made in full
        target = float(rng.uniform(0, reach)) if reach else 0.0
        out = anchors.scaled_to(cov, w, target)
        assert float(np.dot(out, w) / w.sum()) == pytest.approx(target, abs=1e-9)
        moved = (cov > 0) & (out < 1.0)
        if moved.sum() > 1:  # one ratio for every point below the cap
            assert np.ptp(out[moved] / cov[moved]) < 1e-9
