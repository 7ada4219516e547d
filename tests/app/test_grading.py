"""Stateless grading as a use case: domain types in and out, errors that name the field."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.banks import BankRepository
from viva.app.grading import AdHocPoint, AdHocQuestion, Grading
from viva.core.grader import Grader
from viva.errors import InvalidInputError, QuestionNotFoundError


@pytest.fixture(scope="module")
def grading() -> Grading:
    return Grading(Grader(FakeEmbedder()), BankRepository(REPO / "rubrics"), max_answer_chars=50)


def test_bank_question_is_stamped_with_the_bank(grading: Grading) -> None:
    g = grading.grade("Keras is a high-level API.", bank_id="keras", question_id="keras-01")
    assert g.provenance.bank_id == "keras" and g.question_id == "keras-01"


def test_adhoc_points_get_positional_ids(grading: Grading) -> None:
    q = AdHocQuestion(
        prompt="Why shuffle data?",
        points=[AdHocPoint("decorrelates mini-batches", weight=2), AdHocPoint("x y z", id="o")],
    )
    g = grading.grade("It decorrelates mini-batches.", question=q)
    assert [p.id for p in g.points] == ["p1", "o"] and g.provenance.bank_id == "adhoc"


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({}, ("bank_id",), "bank_id is required"),
        ({"bank_id": "keras"}, ("question_id",), "question_id is required"),
        ({"question": AdHocQuestion(prompt="Why is it?")}, ("question",), "needs points"),
        (
            {"question": AdHocQuestion(prompt="Why is it?", reference_answer="the of and")},
            ("question", "reference_answer"),
            "no content words",
        ),
        (
            {"question": AdHocQuestion(prompt="Why?", points=[AdHocPoint("abc", id="a b")])},
            ("question",),
            "invalid question",
        ),
        (
            {
                "bank_id": "keras",
                "question_id": "keras-01",
                "question": AdHocQuestion(prompt="Why is it?", reference_answer="Because."),
            },
            (),
            "not both",
        ),
    ],
)
def test_errors_name_the_field(
    grading: Grading, kwargs: dict[str, object], field: tuple[str, ...], needle: str
) -> None:
    with pytest.raises(InvalidInputError, match=needle) as err:
        grading.grade("an answer", **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_too_long_answer_names_field_and_limit(grading: Grading) -> None:
    with pytest.raises(InvalidInputError, match="VIVA_MAX_ANSWER_CHARS") as err:
        grading.grade("x" * 51, bank_id="keras", question_id="keras-01")
    assert err.value.field == ("answer",) and err.value.context == {"limit": 50}


def test_unknown_question_is_not_found(grading: Grading) -> None:
    with pytest.raises(QuestionNotFoundError):
        grading.grade("x", bank_id="keras", question_id="nope")


def test_a_bank_answer_meant_for_another_question_names_it() -> None:
    grading = Grading(
        Grader(FakeEmbedder()), BankRepository(REPO / "rubrics"), max_answer_chars=4000
    )
    keras = grading.banks.get("keras")
    meant = " ".join(p.text for p in keras.question("keras-09").points)
    g = grading.grade(meant, bank_id="keras", question_id="keras-02")
    assert g.other_question is not None and g.other_question.id == "keras-09"
    # An ad-hoc question has no bank, so there is nothing else it could have been meant for.
    adhoc = AdHocQuestion(prompt="Why shuffle data?", points=[AdHocPoint("decorrelates batches")])
    assert grading.grade(meant, question=adhoc).other_question is None
