"""The one rule for a point the answer states the opposite of (core/contradiction.py)."""

from __future__ import annotations

from viva.core.contradiction import contradict
from viva.domain.models import PointResult, Span

ANSWER = "Dropout zeroes random units in training. It stays on when you call predict."
RIGHT = Span(text="Dropout zeroes random units in training.", start=0, end=40)
WRONG = Span(text="It stays on when you call predict.", start=41, end=75)


def point(evidence: Span | None, coverage: float = 0.6) -> PointResult:
    return PointResult(
        id="p",
        text="Dropout is off at inference.",
        weight=1.0,
        coverage=coverage,
        similarity=0.7,
        evidence=evidence,
        matched="Dropout is off at inference." if evidence else None,
        embedding_coverage=coverage,
    )


def test_spans_are_literal() -> None:
    assert ANSWER[RIGHT.start : RIGHT.end] == RIGHT.text
    assert ANSWER[WRONG.start : WRONG.end] == WRONG.text


def test_credit_earned_by_the_wrong_sentence_is_taken_back() -> None:
    out = contradict(point(WRONG), WRONG)
    assert (out.coverage, out.evidence, out.matched, out.contradiction) == (0.0, None, None, WRONG)
    assert out.embedding_coverage == 0.0 and not out.covered
    # An LLM review keeps what the embedding grade said, for the record.
    assert contradict(point(WRONG), WRONG, keep_embedding=True).embedding_coverage == 0.6


def test_credit_from_another_sentence_stays() -> None:
    out = contradict(point(RIGHT), WRONG)
    assert (out.coverage, out.evidence, out.contradiction) == (0.6, RIGHT, WRONG)


def test_no_evidence_means_nothing_to_keep() -> None:
    assert contradict(point(None, 0.2), WRONG).coverage == 0.0


def test_the_first_statement_found_is_the_one_shown_and_repeats_are_stable() -> None:
    first = contradict(point(RIGHT), WRONG)
    assert contradict(first, RIGHT) == first  # a second, different statement changes nothing
    assert contradict(first, WRONG) == first  # the same one again gives the same point
