"""Choosing questions (deterministic by seed) and the answer/skip state machine."""

from __future__ import annotations

import pytest

from viva.core.interview import InterviewState, choose_questions
from viva.domain.models import Bank, Question, RubricPoint
from viva.errors import ConflictError, InvalidInputError, QuestionNotFoundError


def _bank() -> Bank:
    qs = [
        Question(
            id=f"q{i}",
            prompt=f"Question {i}?",
            topic="a" if i < 4 else "b",
            points=[RubricPoint(id="p", text="a point")],
        )
        for i in range(8)
    ]
    return Bank(id="t", title="T", version="1", questions=qs)


def test_same_seed_same_order_different_seed_differs() -> None:
    b = _bank()
    a1 = choose_questions(b, seed=1)
    assert a1 == choose_questions(b, seed=1)
    assert sorted(a1) == sorted(q.id for q in b.questions)
    assert any(choose_questions(b, seed=s) != a1 for s in range(2, 6))


def test_count_and_topics() -> None:
    b = _bank()
    three = choose_questions(b, seed=9, question_count=3)
    assert len(three) == 3 and three == choose_questions(b, seed=9)[:3]
    only_b = choose_questions(b, seed=9, topics=["b"])
    assert sorted(only_b) == ["q4", "q5", "q6", "q7"]
    with pytest.raises(InvalidInputError, match="only 4 question"):
        choose_questions(b, seed=1, topics=["b"], question_count=5)
    with pytest.raises(InvalidInputError, match=r"'zzz'.*topics: a, b"):
        choose_questions(b, seed=1, topics=["zzz"])
    with pytest.raises(InvalidInputError):
        choose_questions(b, seed=1, question_count=0)


def test_explicit_ids_keep_their_order() -> None:
    b = _bank()
    assert choose_questions(b, seed=1, question_ids=["q5", "q1"]) == ("q5", "q1")
    assert choose_questions(b, seed=1, question_ids=["q5", "q1"], topics=["a"]) == ("q1",)
    assert choose_questions(b, seed=1, question_ids=["q5", "q1", "q2"], question_count=2) == (
        "q5",
        "q1",
    )
    with pytest.raises(QuestionNotFoundError, match="q99"):
        choose_questions(b, seed=1, question_ids=["q99"])
    with pytest.raises(InvalidInputError, match="repeats q1"):
        choose_questions(b, seed=1, question_ids=["q1", "q1"])
    with pytest.raises(InvalidInputError, match="must not be empty"):
        choose_questions(b, seed=1, question_ids=[])
    with pytest.raises(InvalidInputError, match="topics"):
        choose_questions(b, seed=1, question_ids=["q5"], topics=["a"])


def test_state_moves_through_questions() -> None:
    s = InterviewState(("a", "b", "c"))
    assert (s.current, s.index, s.status, s.done) == ("a", 0, "in_progress", 0)
    assert s.next_after("a") == "b"
    s.record("a", "answered")
    assert s.check_can_respond(None) == "b"
    s.record("b", "skipped")
    assert (s.current, s.index, s.done) == ("c", 2, 2)
    assert s.next_after("c") is None
    s.record("c", "answered")
    assert s.status == "completed" and s.current is None and s.index is None


def test_state_refuses_out_of_order_and_late_responses() -> None:
    s = InterviewState.of(("a", "b", "c"), {"a": "answered"})
    with pytest.raises(ConflictError, match="'c' is not the current question; answer 'b'"):
        s.check_can_respond("c")
    with pytest.raises(ConflictError, match="already answered"):
        s.check_can_respond("a")
    with pytest.raises(ConflictError, match="not part of this interview"):
        s.check_can_respond("z")
    s.record("b", "answered")
    s.record("c", "skipped")
    with pytest.raises(ConflictError, match="completed"):
        s.check_can_respond(None)
