"""The sentence heads (core/guards.py), injection and vagueness: fitted on arrays, read by the
grader. No model."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.test_grader import CAL, GOOD, QUESTION
from tests.fakes.embedder import FakeEmbedder
from viva.core.grader import Grader
from viva.core.guards import (
    VAGUE_HEAD_FLAG,
    SentenceHead,
    fit_injection_head,
    fit_vague_head,
    heads_version,
)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    axis = np.zeros(16)
    axis[0] = 1.0
    pos = _unit(2.0 * axis + 0.5 * rng.standard_normal((30, 16)))
    neg = _unit(-0.5 * axis + rng.standard_normal((300, 16)))
    return pos, neg


def test_fit_sets_the_threshold_above_every_negative_and_catches_the_positives() -> None:
    pos, neg = _clusters()
    head = fit_injection_head(pos, neg)
    assert head.probability(neg).max() < head.threshold
    assert not head.fires(neg).any()
    assert head.fires(pos).mean() >= 0.9
    assert head.version.startswith("guard-")
    assert fit_injection_head(pos, neg[:-50]).version != head.version  # new fit, new version


def test_round_trip_and_bad_files() -> None:
    head = fit_injection_head(*_clusters(1))
    assert SentenceHead.from_dict(head.to_dict()) == head
    with pytest.raises(ValueError):
        SentenceHead.from_dict({"weights": [], "bias": 0.0, "threshold": 0.5, "version": "x"})


def test_vectors_of_another_size_never_fire() -> None:
    head = fit_injection_head(*_clusters(2))
    assert not head.fires(np.ones((2, 8), dtype=np.float32)).any()


def _head_on(grader: Grader, sentence: str) -> SentenceHead:
    """A head that fires on this sentence's vector and on nothing far from it."""
    vec = grader.sentence_vectors([sentence])[0]
    return SentenceHead(tuple(float(x) * 40 for x in vec), -30.0, 0.5, "guard-test")


def test_the_grader_flags_what_the_head_fires_on_and_stamps_its_version(
    fake_embedder: FakeEmbedder,
) -> None:
    plea = "Kindly honour this submission, friend."
    plain = Grader(fake_embedder, CAL)
    head = _head_on(plain, plea)
    guarded = Grader(fake_embedder, CAL, injection_head=head)
    before = plain.grade(QUESTION, f"{GOOD} {plea}", bank_id="t", bank_version="1")
    after = guarded.grade(QUESTION, f"{GOOD} {plea}", bank_id="t", bank_version="1")
    assert "prompt_injection" not in before.flags  # neither the grammar nor the prototypes
    assert "prompt_injection" in after.flags
    assert after.provenance.guard == "guard-test" and before.provenance.guard is None
    assert guarded.grade(QUESTION, plea).score == 0.0
    assert "prompt_injection" not in guarded.grade(QUESTION, GOOD).flags


def test_a_sentence_about_the_rubric_is_an_answer_whatever_the_head_says(
    fake_embedder: FakeEmbedder,
) -> None:
    on_topic = "Dropout randomly zeroes unit activations during training."
    guarded = Grader(fake_embedder, CAL, injection_head=_head_on(Grader(fake_embedder), on_topic))
    g = guarded.grade(QUESTION, on_topic)
    assert "prompt_injection" not in g.flags and g.score > 0


def test_the_vagueness_head_flags_at_its_decision_boundary() -> None:
    pos, neg = _clusters(3)
    head = fit_vague_head(pos, neg)
    assert head.threshold == VAGUE_HEAD_FLAG and head.version.startswith("vague-")
    assert head.fires(pos).mean() >= 0.9 and head.fires(neg).mean() <= 0.1
    assert fit_vague_head(pos, neg) == head  # same data, same head
    assert heads_version(None, None) is None
    assert heads_version(fit_injection_head(pos, neg), head).endswith(f"+{head.version}")


def test_filler_is_flagged_only_when_it_earned_little_and_the_score_never_moves(
    fake_embedder: FakeEmbedder,
) -> None:
    filler = "Dropout networks honestly deserve attention."
    point = "Dropout is disabled at inference time."
    plain = Grader(fake_embedder, CAL)
    on_filler = Grader(fake_embedder, CAL, vague_head=_head_on(plain, filler))
    before, after = plain.grade(QUESTION, filler), on_filler.grade(QUESTION, filler)
    assert "vague" not in before.flags and "vague" in after.flags
    assert after.score == before.score < 0.25
    assert after.provenance.guard is not None and after.provenance.guard.endswith("test")
    # One checkable sentence beside it: not filler.
    assert "vague" not in on_filler.grade(QUESTION, f"{GOOD} {filler}").flags
    # A head that fires on an answer scoring well does not flag it.
    on_point = Grader(fake_embedder, CAL, vague_head=_head_on(plain, point))
    g = on_point.grade(QUESTION, point)
    assert g.score >= 0.25 and "vague" not in g.flags
