"""Exam secrecy: when a candidate sees reference answers and rubric texts.

`practice`: after each answer. `exam` (the default): once the interview is completed with at
least one question answered, so skipping everything reveals nothing. `never`: not to the
candidate. Interviewers and admins always see them. Hidden texts are blanked, scores stay.

Which policy applies, in this order (the rule lives here only):
1. the interview's own `reveal` (practice mode counts as `practice`),
2. else its bank's `reveal` (the bank YAML),
3. else the server's `VIVA_REVEAL`.
`pinned` applies 1 and 2 when an interview is created, fixed like its questions, so editing the
bank later does not change a running exam; `effective` adds 3 whenever the policy is read, so an
administrator who tightens VIVA_REVEAL tightens every interview that chose nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from viva.app.auth import Principal
from viva.domain.models import Bank, Grade, Report, Reveal
from viva.errors import InvalidInputError

if TYPE_CHECKING:
    from viva.store import InterviewRecord

REVEALS: tuple[str, ...] = get_args(Reveal)
_STRICTNESS = {"practice": 0, "exam": 1, "never": 2}


def pinned(asked: str | None, bank: Bank) -> str | None:
    """Steps 1 and 2: what a new interview stores as its policy; None leaves step 3."""
    return asked or bank.reveal


def effective(stored: str | None, default: str) -> str:
    """Step 3: the server's default (VIVA_REVEAL) where nothing was pinned."""
    return stored or default


def policy(iv: InterviewRecord, default: str) -> str:
    return effective(iv.reveal, default)


def baseline(bank: Bank, default: str) -> str:
    """The policy an interview of `bank` gets when it asks for none: what a candidate may make
    stricter but not looser (`check_choice`)."""
    return effective(pinned(None, bank), default)


def check_choice(p: Principal, chosen: str | None, default: str) -> None:
    """Candidates may make an interview stricter than `default` (the bank's or server's policy,
    `baseline`), never looser."""
    if chosen is None or p.open or p.sees_secrets:
        return
    if _STRICTNESS[chosen] < _STRICTNESS[default]:
        raise InvalidInputError(
            f"reveal {chosen!r} is looser than this bank's or server's policy ({default!r}); "
            "only interviewers and admins may choose it",
            field=("reveal",),
        )


def reveals(p: Principal, iv: InterviewRecord, default: str) -> bool:
    """Whether `p` may see `iv`'s secrets now."""
    if p.sees_secrets:
        return True
    mode = policy(iv, default)
    if mode != "exam":
        return mode == "practice"
    return iv.status == "completed" and any(r.outcome == "answered" for r in iv.responses)


def reveals_answer(p: Principal, iv: InterviewRecord, default: str, *, completing: bool) -> bool:
    """For the reply to an answer: whether that answer completed the interview, not the
    interview's state now, so an idempotent replay returns the same body."""
    if p.sees_secrets:
        return True
    mode = policy(iv, default)
    return mode == "practice" or (mode == "exam" and completing)


def redact_grade(g: Grade) -> Grade:
    """Scores and the candidate's own evidence stay; rubric and misconception texts go."""
    return g.model_copy(
        update={
            "points": [p.model_copy(update={"text": "", "matched": None}) for p in g.points],
            "misconceptions": [m.model_copy(update={"text": ""}) for m in g.misconceptions],
            "feedback": None,
        }
    )


def redact_report(r: Report) -> Report:
    questions = [
        q.model_copy(
            update={
                "reference_answer": "",
                "grade": redact_grade(q.grade) if q.grade is not None else None,
            }
        )
        for q in r.questions
    ]
    # Gaps and study hints say rubric points short; keep only the question ids and links.
    return r.model_copy(
        update={
            "questions": questions,
            "strengths": sorted({s.split(":", 1)[0] for s in r.strengths}),
            "gaps": sorted({s.split(":", 1)[0] for s in r.gaps}),
            "study_next": [
                s.model_copy(update={"text": f"Study question {s.question_id} again"})
                for s in r.study_next
            ],
            "misconceptions": [m.model_copy(update={"in_fact": ""}) for m in r.misconceptions],
            "topics": [t.model_copy(update={"study": []}) for t in r.topics],
        }
    )


def grade_for(p: Principal, iv: InterviewRecord, g: Grade, default: str) -> Grade:
    return g if reveals(p, iv, default) else redact_grade(g)
