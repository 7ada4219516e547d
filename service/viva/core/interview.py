"""Interview logic with no I/O: which questions are asked, in what order, and what comes next.

The order is a pure function of the bank and the request (seed included), so an interview can be
re-created from what is stored, and a restart of the server changes nothing.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from viva.core.wording import counted
from viva.domain.models import Bank, Question
from viva.errors import ConflictError, InvalidInputError

Outcome = Literal["answered", "skipped"]
Status = Literal["in_progress", "completed"]


def choose_questions(
    bank: Bank,
    *,
    seed: int,
    question_count: int | None = None,
    topics: Sequence[str] | None = None,
    question_ids: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The ordered question ids of a new interview.

    Explicit `question_ids` are asked in the given order (a candidate or coach chose them).
    Otherwise questions are drawn from the bank (restricted to `topics`), shuffled by `seed`
    and cut to `question_count`, so the same request and seed always give the same interview.
    """
    if question_ids is not None:
        if not question_ids:
            raise InvalidInputError("question_ids must not be empty when given")
        dupes = sorted({q for q in question_ids if list(question_ids).count(q) > 1})
        if dupes:
            raise InvalidInputError(f"question_ids repeats {', '.join(dupes)}")
        for qid in question_ids:
            bank.question(qid)  # raises QuestionNotFoundError naming the bank
        chosen = list(question_ids)
        if topics:
            wanted = set(topics)
            chosen = [q for q in chosen if bank.question(q).topic in wanted]
            if not chosen:
                raise InvalidInputError("none of question_ids is in the requested topics")
    else:
        pool: list[Question] = list(bank.questions)
        if topics:
            unknown = sorted(set(topics) - set(bank.topics))
            if unknown:
                raise InvalidInputError(
                    f"bank {bank.id!r} has no topic {', '.join(map(repr, unknown))} "
                    f"(topics: {', '.join(bank.topics)})"
                )
            wanted = set(topics)
            pool = [q for q in pool if q.topic in wanted]
        chosen = [q.id for q in pool]
        random.Random(seed).shuffle(chosen)
    if question_count is not None:
        if question_count < 1:
            raise InvalidInputError("question_count must be at least 1")
        if question_count > len(chosen):
            raise InvalidInputError(
                f"question_count is {question_count} but bank {bank.id!r} has only "
                f"{counted(len(chosen), 'question')} that match"
            )
        chosen = chosen[:question_count]
    return tuple(chosen)


@dataclass
class InterviewState:
    """Progress through an ordered list of questions; every question ends answered or skipped."""

    question_ids: tuple[str, ...]
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @classmethod
    def of(cls, question_ids: Sequence[str], outcomes: Mapping[str, Outcome]) -> InterviewState:
        return cls(tuple(question_ids), dict(outcomes))

    @property
    def total(self) -> int:
        return len(self.question_ids)

    @property
    def done(self) -> int:
        return sum(1 for q in self.question_ids if q in self.outcomes)

    @property
    def current(self) -> str | None:
        """The first question without an outcome; None when the interview is over."""
        return next((q for q in self.question_ids if q not in self.outcomes), None)

    @property
    def index(self) -> int | None:
        cur = self.current
        return None if cur is None else self.question_ids.index(cur)

    @property
    def status(self) -> Status:
        return "completed" if self.current is None else "in_progress"

    def check_can_respond(self, question_id: str | None) -> str:
        """The question a response (answer or skip) applies to, or why it cannot be accepted.

        `None` means "the current question" (a skip without an id).
        """
        cur = self.current
        if cur is None:
            raise ConflictError(
                f"the interview is completed ({self.total} of "
                f"{counted(self.total, 'question')} done); "
                "fetch its report instead"
            )
        if question_id is None or question_id == cur:
            return cur
        if question_id not in self.question_ids:
            raise ConflictError(
                f"question {question_id!r} is not part of this interview; the current question "
                f"is {cur!r}"
            )
        if question_id in self.outcomes:
            raise ConflictError(
                f"question {question_id!r} was already {self.outcomes[question_id]}; the current "
                f"question is {cur!r}"
            )
        raise ConflictError(
            f"question {question_id!r} is not the current question; answer {cur!r} first "
            "(or skip it)"
        )

    def record(self, question_id: str, outcome: Outcome) -> None:
        self.check_can_respond(question_id)
        self.outcomes[question_id] = outcome

    def next_after(self, question_id: str) -> str | None:
        """What comes next once `question_id` has an outcome."""
        state = InterviewState(self.question_ids, {**self.outcomes, question_id: "answered"})
        return state.current
