"""Request and response bodies. Separate from the domain models so the wire format is a
deliberate contract: banks here never carry rubric points or reference answers.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from viva.app.interviews import FeedbackMode
from viva.domain.models import Difficulty, Grade, Report

SAMPLE_ANSWER = (
    "Keras is a high-level API with ready-made layers and a fit() loop, so a model takes a few "
    "lines; TensorFlow or PyTorch alone make you write the training loop yourself."
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_text(v: Any) -> str | None:
    """Why a string (or a list of them) cannot be stored or echoed, or None when it can."""
    if isinstance(v, str):
        if "\x00" in v:
            return "must not contain NUL (\\u0000) characters"
        if _SURROGATE.search(v):
            return "must be valid Unicode text: lone surrogates (such as \\ud800) are not allowed"
        return None
    if isinstance(v, list | tuple):
        return next((why for x in v if (why := _bad_text(x)) is not None), None)
    return None


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, v: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no database (nor UTF-8) can hold a lone
        # surrogate; refuse both up front, for every backend alike.
        why = _bad_text(v)
        if why is not None:
            raise ValueError(why)
        return v


# --- banks -------------------------------------------------------------------------------


class QuestionOut(BaseModel):
    id: str
    prompt: str
    topic: str
    difficulty: Difficulty


class BankSummary(BaseModel):
    id: str
    title: str
    version: str
    description: str
    language: str
    topics: list[str]
    topic_names: dict[str, str] = Field(default_factory=dict, description="slug -> display name")
    question_count: int


class BankOut(BankSummary):
    questions: list[QuestionOut]


class BankList(BaseModel):
    banks: list[BankSummary]


# --- interviews --------------------------------------------------------------------------


class CreateInterview(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"bank_id": "keras", "question_count": 3, "seed": 42, "candidate": "Ada"},
                {"bank_id": "keras", "question_ids": ["keras-01", "keras-02"]},
            ]
        },
    )

    bank_id: str = Field(min_length=1, max_length=64)
    question_count: int | None = Field(default=None, ge=1, le=1000)
    topics: list[str] | None = Field(default=None, max_length=100)
    question_ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="Same seed and options give the same questions in the same order.",
    )
    candidate: str | None = Field(default=None, max_length=200)
    feedback: FeedbackMode = Field(
        default="none", description='"llm" adds LLM feedback; needs VIVA_LLM_* configured.'
    )
    reveal: Literal["practice", "exam", "never"] | None = Field(
        default=None,
        description="When the candidate sees reference answers and rubric texts: after each "
        "answer, after completion with an answer, or never; default VIVA_REVEAL. Candidates "
        "may only choose a stricter policy.",
    )
    candidate_link: bool = Field(
        default=False,
        description="Interviewers and admins: make it for a candidate. The reply's "
        "`candidate_link` token (shown once) is the only credential that can answer it.",
    )
    mode: Literal["exam", "practice"] = Field(
        default="exam",
        description='"practice": after each grade the model answer and the missed points, and '
        'one retry per question (implies reveal "practice"). "exam": as an interview.',
    )
    time_limit_s: int | None = Field(
        default=None,
        ge=10,
        le=3600,
        description="Seconds per question; an answer after it is marked over time, not refused.",
    )


class CurrentQuestion(QuestionOut):
    index: int = Field(description="0-based position in this interview.")
    total: int


class Progress(BaseModel):
    answered: int
    skipped: int
    done: int
    total: int


class ResponseOut(BaseModel):
    question_id: str
    index: int
    status: Literal["answered", "skipped"]
    answer: str | None
    grade: Grade | None
    created_at: datetime
    kind: Literal["answer", "retry", "follow_up"] = "answer"
    parent_id: str | None = Field(default=None, description="A retry's or follow-up's question.")
    time_taken_s: float | None = None


class FollowUpOut(BaseModel):
    id: str = Field(description="Answer it by POSTing to .../answers with this `question_id`.")
    prompt: str
    parent_id: str
    point_ids: list[str] = Field(description="The missed points it probes.")


class MissedPoint(BaseModel):
    id: str
    text: str


class PracticeOut(BaseModel):
    reference_answer: str
    missed: list[MissedPoint]
    can_retry: bool


class InterviewCreated(BaseModel):
    id: str
    status: Literal["in_progress", "completed"]
    bank_id: str
    bank_version: str
    candidate: str | None
    feedback: FeedbackMode
    seed: int
    question: CurrentQuestion | None
    progress: Progress
    created_at: datetime
    reveal: Literal["practice", "exam", "never"] = Field(
        default="exam", description="This interview's policy for revealing reference answers."
    )
    mode: Literal["exam", "practice"] = "exam"
    time_limit_s: int | None = None
    candidate_link: str | None = Field(
        default=None,
        description="Only in the reply that creates an interview with `candidate_link`: the "
        "candidate's token, sent as `Authorization: Bearer TOKEN`. Not stored, not shown again.",
    )


class InterviewOut(InterviewCreated):
    questions: list[QuestionOut] = Field(description="The questions asked so far, in order.")
    responses: list[ResponseOut]
    updated_at: datetime
    completed_at: datetime | None
    follow_up: FollowUpOut | None = Field(
        default=None, description="The follow-up waiting for an answer (or a skip), if any."
    )


class SubmitAnswer(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question_id": "keras-01", "answer": SAMPLE_ANSWER}]},
    )

    question_id: str = Field(
        min_length=1, max_length=70, description="The current question's id or a follow-up's."
    )
    answer: str = Field(description="Free text; at most VIVA_MAX_ANSWER_CHARS characters.")
    retry: bool = Field(
        default=False,
        description="Practice mode: a second try at the question just graded (once each).",
    )


class SkipQuestion(_Request):
    question_id: str | None = Field(
        default=None,
        max_length=70,
        description="Defaults to the current question; a pending follow-up is skipped by its id.",
    )


class AnswerResult(BaseModel):
    grade: Grade
    next_question: CurrentQuestion | None
    follow_up: FollowUpOut | None = Field(
        default=None,
        description="Asked after an answer that missed key points; optional: answering the next "
        "question instead declines it.",
    )
    practice: PracticeOut | None = Field(default=None, description="Practice mode only.")
    time_taken_s: float = Field(default=0.0, description="Seconds since the question was served.")


class InterviewSummary(BaseModel):
    id: str
    bank_id: str
    bank_title: str
    created_at: datetime
    status: Literal["in_progress", "completed"]
    mode: Literal["exam", "practice"]
    overall: float | None = Field(description="The report's score; null while in progress.")
    answered: int
    total: int


class InterviewList(BaseModel):
    items: list[InterviewSummary]
    next_cursor: str | None


class ProgressPoint(BaseModel):
    interview_id: str
    at: datetime
    score: float


class TopicProgress(BaseModel):
    topic: str
    name: str
    points: list[ProgressPoint]


class ProgressOut(BaseModel):
    bank_id: str
    topics: list[TopicProgress]


class SkipResult(BaseModel):
    skipped: str
    next_question: CurrentQuestion | None


class ReviewIn(_Request):
    """A person's score for a graded answer, on Viva's 0-1 scale, and why."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"score": 0.4, "note": "names dropout but not why"}]},
    )

    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    note: str | None = Field(default=None, max_length=2000)


class ReviewOut(BaseModel):
    question_id: str
    score: float = Field(description="The reviewer's score; the report uses it.")
    viva_score: float = Field(description="Viva's score, kept in the grade and the audit trail.")
    note: str | None
    reviewer: str
    reviewed_at: datetime


# --- stateless grading -------------------------------------------------------------------


class AdHocPoint(_Request):
    id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=3, max_length=2000)
    weight: float = Field(default=1.0, gt=0, le=100)
    alternatives: list[str] = Field(default_factory=list, max_length=20)


class AdHocQuestion(_Request):
    prompt: str = Field(min_length=3, max_length=4000)
    reference_answer: str | None = Field(default=None, max_length=20_000)
    points: list[AdHocPoint] | None = Field(default=None, min_length=1, max_length=50)
    topic: str = Field(default="general", min_length=1, max_length=64)


class GradeRequestIn(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"bank_id": "keras", "question_id": "keras-01", "answer": SAMPLE_ANSWER},
                {
                    "question": {
                        "prompt": "Why shuffle training data between epochs?",
                        "reference_answer": "Shuffling stops the model from learning the order "
                        "of the data. It makes mini-batch gradients less correlated.",
                    },
                    "answer": "So batches are not correlated and order is not learned.",
                },
            ]
        },
    )

    bank_id: str | None = Field(default=None, max_length=64)
    question_id: str | None = Field(default=None, max_length=64)
    question: AdHocQuestion | None = None
    answer: str


# --- health ------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    model: str
    database: str
    llm: Literal["ok", "degraded", "disabled"] = Field(
        default="disabled", description="degraded: the last LLM call failed (grading still works)"
    )


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is returned."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    request_id: str | None = Field(
        default=None, description="The X-Request-ID of this request, as in the server log."
    )


ReportOut = Report
