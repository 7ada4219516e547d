"""The score formula has one home: what fitting optimises is what grading serves."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes.embedder import FakeEmbedder
from viva.core import scoring
from viva.core.calibration import FEATURES, Calibration, predict_scores
from viva.core.grader import Grader, GradeRequest, to_sample
from viva.domain.models import PointResult, Question, RubricPoint

QUESTION = Question(
    id="shuffle",
    prompt="Why shuffle the training data between epochs?",
    points=(
        RubricPoint(id="order", text="Shuffling stops the model learning the order of examples."),
        RubricPoint(
            id="batches",
            text="Mini-batch gradients become less correlated across steps.",
            weight=2,
        ),
        RubricPoint(id="generalise", text="The model generalises better to unseen data."),
    ),
)

ANSWERS = [
    "Shuffling stops the model from learning the order of the examples.",
    "So mini-batch gradients are less correlated from one step to the next.",
    "The model learns the order otherwise, and batches would be correlated, so it generalises.",
    "It generalises better to unseen data.",
    "shuffling, order, gradients, batches",
    "Bananas are rich in potassium and taste best when they have brown spots on the peel.",
    "",
    "I don't know.",
]


def test_score_is_weighted_mean_minus_penalties_clamped() -> None:
    pts = [
        PointResult(id="a", text="a a a", weight=1, coverage=1.0, similarity=0),
        PointResult(id="b", text="b b b", weight=3, coverage=0.2, similarity=0),
    ]
    assert scoring.score(pts) == pytest.approx((1.0 + 0.6) / 4)
    assert scoring.score(pts, [0.1]) == pytest.approx((1.0 + 0.6) / 4 - 0.1)
    assert scoring.score(pts, [0.9]) == 0.0
    assert scoring.score([]) == 0.0


def test_vectorised_scores_match_the_per_answer_formula() -> None:
    rng = np.random.default_rng(3)
    cov = rng.uniform(0, 1, 12)
    w = rng.uniform(0.5, 3, 12)
    owner = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4])
    batch = scoring.scores(cov, w, owner, 6)
    for i in range(5):
        rows = owner == i
        pts = [
            PointResult(id=f"p{j}", text="xyz", weight=wj, coverage=cj, similarity=0)
            for j, (wj, cj) in enumerate(zip(w[rows], cov[rows], strict=True))
        ]
        assert scoring.score(pts) == pytest.approx(batch[i], abs=1e-4)
    assert batch[5] == 0.0  # an answer with no points


def test_covered_is_computed_from_the_one_threshold() -> None:
    at = PointResult(id="a", text="abc", weight=1, coverage=scoring.COVERED, similarity=0)
    below = at.model_copy(update={"coverage": scoring.COVERED - 1e-4})
    assert at.covered and not below.covered
    dumped = at.model_dump(mode="json")
    assert dumped["covered"] is True
    # Stored grades carry `covered`; reading one back recomputes it instead of trusting it.
    forged = {**below.model_dump(mode="json"), "covered": True}
    assert PointResult.model_validate(forged).covered is False


@pytest.mark.parametrize("keyword_cap", [0.35, 0.1])
def test_fitted_formula_equals_served_formula(keyword_cap: float) -> None:
    cal = Calibration(
        id="agree",
        weights={"lexical": 3.0, "align_recall": 5.0, "align_precision": 1.5},
        bias=-4.0,
        keyword_cap=keyword_cap,
    )
    grader = Grader(FakeEmbedder(), cal)
    feats = grader.features_many([GradeRequest(QUESTION, a) for a in ANSWERS])
    served = [grader.from_features(f).score for f in feats]
    w = np.array([cal.weights[n] for n in FEATURES])
    fitted = predict_scores([to_sample(f, 0.0, cal) for f in feats], w, cal.bias)
    assert fitted == pytest.approx(served, abs=2e-4)
    # The cases that make this non-trivial are really there.
    flags = [set(grader.from_features(f).flags) for f in feats]
    assert {"keyword_list"} in flags and any("off_topic" in f for f in flags)
    assert len({round(s, 3) for s in served}) >= 4


def test_reads_as_other_needs_a_passing_sibling_nearer_by_the_margin() -> None:
    margin = scoring.OTHER_QUESTION_MARGIN
    own_topical = 0.3
    near = own_topical + margin
    # (score, topical) of the same answer graded against each sibling
    assert scoring.reads_as_other(0.0, own_topical, [(0.6, near)]) == 0
    assert scoring.reads_as_other(0.0, own_topical, [(0.6, near - 0.01)]) is None  # not nearer
    assert scoring.reads_as_other(0.0, own_topical, [(0.39, near + 0.3)]) is None  # would fail
    assert scoring.reads_as_other(0.0, own_topical, [(0.6, None)]) is None  # nothing to read
    # the best-scoring of those that qualify; the first on a tie
    others = [(0.5, near), (0.9, near - 0.1), (0.7, near), (0.7, near + 0.1)]
    assert scoring.reads_as_other(0.0, own_topical, others) == 2


def test_reads_as_other_only_for_answers_that_earn_nothing_here() -> None:
    sibling = [(0.9, 0.9)]
    assert scoring.reads_as_other(scoring.OTHER_QUESTION_OWN_MAX, 0.1, sibling) == 0
    assert scoring.reads_as_other(scoring.OTHER_QUESTION_OWN_MAX + 0.01, 0.1, sibling) is None
    assert scoring.reads_as_other(0.0, None, sibling) is None  # blank: no span was read
    assert not scoring.may_read_as_other(0.0, None)
