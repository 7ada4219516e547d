"""Stateless grading of one answer: against a bank question, or an ad-hoc question built from
rubric points or a reference answer. For integrations that keep their own state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from viva.adapters.banks import BankRepository
from viva.app.batching import GradeBatcher
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


@dataclass(frozen=True)
class AdHocLimits:
    """How big an ad-hoc question may be (VIVA_ADHOC_MAX_*): every rubric text is embedded
    and cached, so its size is memory and grading time the server spends for one request."""

    points: int = 30
    alternatives: int = 100  # all points together
    chars: int = 20_000  # prompt, reference answer, point texts and alternatives together


def check_adhoc_size(q: AdHocQuestion, limits: AdHocLimits) -> None:
    """Refuse an ad-hoc question over a limit before any grading work, naming the field."""
    points = q.points or ()
    if len(points) > limits.points:
        raise InvalidInputError(
            f"question.points has {len(points)} points; the limit is {limits.points} "
            "(VIVA_ADHOC_MAX_POINTS)",
            field=("question", "points"),
            limit=limits.points,
        )
    alternatives = sum(len(p.alternatives) for p in points)
    if alternatives > limits.alternatives:
        raise InvalidInputError(
            f"question.points have {alternatives} alternatives in all; the limit is "
            f"{limits.alternatives} (VIVA_ADHOC_MAX_ALTERNATIVES)",
            field=("question", "points"),
            limit=limits.alternatives,
        )
    sizes: dict[tuple[str, ...], int] = {
        ("question", "prompt"): len(q.prompt),
        ("question", "reference_answer"): len(q.reference_answer or ""),
        ("question", "points"): sum(len(p.text) + sum(map(len, p.alternatives)) for p in points),
    }
    total = sum(sizes.values())
    if total > limits.chars:
        biggest = max(sizes, key=lambda k: sizes[k])
        raise InvalidInputError(
            f"the ad-hoc question has {total} characters of rubric text (largest: "
            f"{'.'.join(biggest)}, {sizes[biggest]}); the limit is {limits.chars} "
            "(VIVA_ADHOC_MAX_CHARS)",
            field=biggest,
            limit=limits.chars,
        )


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

    def __init__(
        self,
        grader: Grader,
        banks: BankRepository,
        *,
        max_answer_chars: int,
        adhoc_limits: AdHocLimits | None = None,
        batcher: GradeBatcher | None = None,
    ) -> None:
        self.grader = grader
        self._grade_one = batcher.grade if batcher is not None else grader.grade
        self.banks = banks
        self.max_answer_chars = max_answer_chars
        self.adhoc_limits = adhoc_limits or AdHocLimits()

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
            check_adhoc_size(question, self.adhoc_limits)
            return self._grade_one(adhoc_question(question), answer)
        if not (bank_id and question_id):
            missing = "bank_id" if not bank_id else "question_id"
            raise InvalidInputError(
                f"{missing} is required (or give an ad-hoc question with a reference_answer "
                "and/or points)",
                field=(missing,),
            )
        bank = self.banks.get(bank_id)
        return self._grade_one(
            bank.question(question_id),
            answer,
            bank_id=bank.id,
            bank_version=bank.version,
            siblings=bank.siblings(question_id),
        )
