"""Where a use case's field lands in a 422 problem: the body, or the header it came from."""

from __future__ import annotations

from viva.api.problems import field_location


def test_fields_are_located_in_the_request() -> None:
    assert field_location(("answer",)) == ["body", "answer"]
    assert field_location(("question", "reference_answer")) == [
        "body",
        "question",
        "reference_answer",
    ]
    assert field_location(()) == ["body"]  # the whole body
    assert field_location(("idempotency_key",)) == ["header", "Idempotency-Key"]
