"""Stateless grading of one answer: against a bank question, or an ad-hoc question built from
rubric points or a reference answer. For integrations that keep their own state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from viva.adapters.banks import BankRepository
from viva.core.grader import Grader
from viva.core.reference import points_from_reference
from viva.domain.models import Grade, Question, RubricPoint
from viva.errors import InvalidInputError

ADHOC_ID = "adhoc"


@dataclass(frozen=True)
class AdHocPoint:
    text: str
    id: str | None = None  # default: p1, p2, ... by position
    weight: float = 1.0
    alternatives: Sequence[str] = ()


@dataclass(frozen=True)
class AdHocQuestion:
    """A question that is in no bank; it needs `points` or a non-empty `reference_answer`."""

    prompt: str
    reference_answer: str | None = None
    points: Sequence[AdHocPoint] | None = None
    topic: str = "general"


def check_answer_length(answer: str, limit: int) -> None:
    """Answers over VIVA_MAX_ANSWER_CHARS are refused before any grading work."""
    if len(answer) > limit:
        raise InvalidInputError(
            f"answer is {len(answer)} characters; the limit is {limit} (VIVA_MAX_ANSWER_CHARS)",
            field=("answer",),
            limit=limit,
        )


def adhoc_question(q: AdHocQuestion) -> Question:
    """The domain question for an ad-hoc request; errors name the field at fault."""
    try:
        if q.points:
            points = tuple(
                RubricPoint(
                    id=p.id or f"p{i + 1}",
                    text=p.text,
                    weight=p.weight,
                    alternatives=tuple(p.alternatives),
                )
                for i, p in enumerate(q.points)
            )
        elif q.reference_answer and q.reference_answer.strip():
            points = points_from_reference(q.reference_answer)
        else:
            raise InvalidInputError(
                "an ad-hoc question needs points or a non-empty reference_answer to grade against",
                field=("question",),
            )
        return Question(
            id=ADHOC_ID,
            prompt=q.prompt,
            topic=q.topic,
            reference_answer=q.reference_answer or "",
            points=points,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInputError(f"invalid question: {first['msg']}", field=("question",)) from None
    except ValueError as exc:
        raise InvalidInputError(str(exc), field=("question", "reference_answer")) from None


class Grading:
    """Grade one answer, keeping nothing. Safe to call from many threads at once."""

    def __init__(self, grader: Grader, banks: BankRepository, *, max_answer_chars: int) -> None:
        self.grader = grader
        self.banks = banks
        self.max_answer_chars = max_answer_chars

    def grade(
        self,
        answer: str,
        *,
        bank_id: str | None = None,
        question_id: str | None = None,
        question: AdHocQuestion | None = None,
    ) -> Grade:
        """Give either `bank_id` and `question_id`, or an ad-hoc `question`."""
        check_answer_length(answer, self.max_answer_chars)
        if question is not None:
            if bank_id or question_id:
                raise InvalidInputError(
                    "give either bank_id and question_id, or question, not both", field=()
                )
            return self.grader.grade(adhoc_question(question), answer)
        if not (bank_id and question_id):
            missing = "bank_id" if not bank_id else "question_id"
            raise InvalidInputError(
                f"{missing} is required (or give an ad-hoc question with a reference_answer "
                "and/or points)",
                field=(missing,),
            )
        bank = self.banks.get(bank_id)
        return self.grader.grade(
            bank.question(question_id), answer, bank_id=bank.id, bank_version=bank.version
        )
