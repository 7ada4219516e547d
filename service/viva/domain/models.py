"""Question banks and grades. Pure data: validated on construction, no I/O."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from viva.core import scoring
from viva.errors import QuestionNotFoundError

Difficulty = Literal["easy", "medium", "hard"]
Slug = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RubricPoint(_Strict):
    """One gradable idea. `alternatives` are other ways a candidate may say it."""

    id: str = Slug
    text: str = Field(min_length=3)
    weight: float = Field(default=1.0, gt=0, le=100)
    alternatives: tuple[str, ...] = ()

    @field_validator("alternatives")
    @classmethod
    def _non_empty_alternatives(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not a.strip() for a in v):
            raise ValueError("alternatives must not contain empty strings")
        return v


class Misconception(_Strict):
    """A wrong claim; stating it costs `penalty` (a fraction of the question's score)."""

    id: str = Slug
    text: str = Field(min_length=3)
    penalty: float = Field(default=0.1, gt=0, le=1)


class Question(_Strict):
    id: str = Slug
    prompt: str = Field(min_length=3)
    topic: str = Field(default="general", min_length=1)
    difficulty: Difficulty = "medium"
    reference_answer: str = ""
    points: tuple[RubricPoint, ...] = Field(min_length=1)
    misconceptions: tuple[Misconception, ...] = ()
    followups: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Question:
        ids = [p.id for p in self.points] + [m.id for m in self.misconceptions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate point/misconception ids: {', '.join(dupes)}")
        return self


class Bank(_Strict):
    id: str = Slug
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    language: str = "en"
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_question_ids(self) -> Bank:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {', '.join(dupes)}")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise QuestionNotFoundError(
            f"question {question_id!r} is not in bank {self.id!r} (version {self.version})"
        )

    @property
    def topics(self) -> list[str]:
        return sorted({q.topic for q in self.questions})


# --- grades -------------------------------------------------------------------------------

Flag = Literal[
    "empty",
    "dont_know",
    "prompt_injection",
    "keyword_list",
    "restates_question",
    "off_topic",
    "truncated",
]

FeedbackStatus = Literal["off", "ok", "unavailable"]
Verdict = Literal["covered", "partial", "missing", "contradicted"]


class Span(_Strict):
    """A literal slice of the answer: `answer[start:end] == text`."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class PointResult(_Strict):
    id: str
    text: str
    weight: float
    coverage: float = Field(ge=0, le=1)
    similarity: float
    evidence: Span | None = None
    matched: str | None = None  # which phrasing (point text or an alternative) matched best
    embedding_coverage: float | None = None  # before any LLM adjustment
    llm_verdict: Verdict | None = None

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """Stored grades carry `covered`; it is derived, so it is recomputed, never trusted."""
        if isinstance(data, dict) and "covered" in data:
            data = {k: v for k, v in data.items() if k != "covered"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def covered(self) -> bool:
        """Whether the point counts as made (core/scoring.py: COVERED); clients read this."""
        return scoring.is_covered(self.coverage)


class MisconceptionResult(_Strict):
    id: str
    text: str
    penalty: float
    similarity: float
    triggered: bool
    applied_penalty: float = 0.0
    evidence: Span | None = None
    source: Literal["embedding", "llm"] = "embedding"


class Feedback(_Strict):
    good: list[str] = []
    add: list[str] = []
    tip: str = ""


class Provenance(_Strict):
    """What a grade depends on, so it can be explained and reproduced later."""

    bank_id: str
    bank_version: str
    question_id: str
    model: str
    grader_version: str
    calibration: str
    prompt: str | None = None  # e.g. "feedback.v1"
    llm_model: str | None = None


class Grade(_Strict):
    question_id: str
    score: float = Field(ge=0, le=1)
    points: list[PointResult]
    misconceptions: list[MisconceptionResult] = []
    flags: list[Flag] = []
    provenance: Provenance
    feedback_status: FeedbackStatus = "off"
    feedback_reason: str | None = None
    feedback: Feedback | None = None

    @property
    def covered(self) -> list[PointResult]:
        return [p for p in self.points if p.covered]

    @property
    def missed(self) -> list[PointResult]:
        return [p for p in self.points if not p.covered]


# --- reports ------------------------------------------------------------------------------

AnswerStatus = Literal["answered", "skipped", "unanswered", "error"]


class QuestionReport(_Strict):
    question_id: str
    prompt: str
    topic: str
    difficulty: Difficulty
    status: AnswerStatus
    answer: str | None = None
    grade: Grade | None = None
    reference_answer: str = ""
    error: str | None = None

    @property
    def score(self) -> float:
        return self.grade.score if self.grade else 0.0


class TopicScore(_Strict):
    topic: str
    score: float
    answered: int
    total: int


class Report(_Strict):
    """A candidate's result: overall, per topic, per question, and what to study next."""

    bank_id: str
    bank_version: str
    candidate: str | None = None
    overall: float
    topics: list[TopicScore]
    questions: list[QuestionReport]
    strengths: list[str]
    gaps: list[str]
    study_next: list[str]
    flags: list[str] = []
    model: str | None = None
    grader_version: str | None = None
