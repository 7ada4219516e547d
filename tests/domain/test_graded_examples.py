"""Graded examples in a question: the scores anchor the grader, so a bad one must not load."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from viva.domain.models import Bank, GradedExample, Question


def question(*examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "q-1",
        "prompt": "Why use dropout?",
        "points": [{"id": "reg", "text": "It reduces overfitting."}],
        "misconceptions": [{"id": "at-test", "text": "It keeps dropping units at test time."}],
        "examples": list(examples),
    }


def errors(data: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as exc:
        Question.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in exc.value.errors()]


def test_a_question_keeps_its_examples_in_order() -> None:
    q = Question.model_validate(
        question(
            {"answer": "It regularises the network.", "score": 0.9, "note": "short but right"},
            {
                "answer": "Units stay switched off when predicting.",
                "score": 0.1,
                "misconception": "at-test",
            },
            {"answer": "No idea.", "score": 0},
        )
    )
    assert [e.score for e in q.examples] == [0.9, 0.1, 0.0]
    assert q.examples[0].note == "short but right" and q.examples[0].misconception is None
    assert q.examples[1].misconception == "at-test"


def test_examples_are_optional() -> None:
    data = question()
    del data["examples"]
    assert Question.model_validate(data).examples == ()


@pytest.mark.parametrize("score", [1.5, -0.1, float("nan"), float("inf"), "high"])
def test_score_must_be_a_number_in_0_1(score: object) -> None:
    [(loc, _)] = errors(question({"answer": "It regularises.", "score": score}))
    assert loc == ("examples", 0, "score")


@pytest.mark.parametrize("answer", ["", "   \n\t"])
def test_answer_must_have_text(answer: str) -> None:
    [(loc, _)] = errors(question({"answer": answer, "score": 0.5}))
    assert loc == ("examples", 0, "answer")


def test_misconception_must_belong_to_the_same_question() -> None:
    found = errors(
        question(
            {"answer": "It regularises.", "score": 0.9},
            {"answer": "It makes training faster.", "score": 0.1, "misconception": "faster"},
        )
    )
    assert found == [
        (
            ("examples", 1, "misconception"),
            "'faster' is not a misconception of this question (known: at-test)",
        )
    ]


def test_the_same_answer_twice_is_refused() -> None:
    [(loc, msg)] = errors(
        question(
            {"answer": "It regularises the model.", "score": 0.9},
            {"answer": "it  regularises the MODEL.", "score": 0.2},
        )
    )
    assert loc == ("examples", 1, "answer") and "examples[0]" in msg


def test_unknown_keys_and_missing_score_are_refused() -> None:
    found = dict(errors(question({"answer": "It regularises.", "grade": 0.9})))
    assert set(found) == {("examples", 0, "score"), ("examples", 0, "grade")}


def test_examples_are_frozen_values() -> None:
    ex = GradedExample(answer="It regularises.", score=0.8)
    with pytest.raises(ValidationError):
        ex.score = 0.1  # type: ignore[misc]


def test_a_bank_reports_the_question_of_a_bad_example() -> None:
    bad = question({"answer": "It regularises.", "score": 2})
    with pytest.raises(ValidationError) as exc:
        Bank.model_validate({"id": "b", "title": "B", "version": "1", "questions": [bad]})
    assert ("questions", 0, "examples", 0, "score") in [tuple(e["loc"]) for e in exc.value.errors()]
