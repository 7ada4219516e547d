"""A misconception names the point it denies; the bank refuses a link to a point that is not
there, naming both."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from viva.domain.models import Misconception, Question, RubricPoint


def _question(contradicts: str | None) -> Question:
    return Question(
        id="q",
        prompt="Why use dropout?",
        points=(RubricPoint(id="inference-off", text="Dropout is off at inference."),),
        misconceptions=(
            Misconception(
                id="on-at-test", text="Dropout runs at test time.", contradicts=contradicts
            ),
        ),
    )


def test_link_to_a_point_of_the_question() -> None:
    assert _question("inference-off").misconceptions[0].contradicts == "inference-off"
    assert _question(None).misconceptions[0].contradicts is None


def test_link_to_an_unknown_point_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"'on-at-test' contradicts 'nope'.*inference-off"):
        _question("nope")
