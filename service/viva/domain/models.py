"""Question banks and grades. Pure data: validated on construction, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from viva.core import scoring
from viva.errors import QuestionNotFoundError

Difficulty = Literal["easy", "medium", "hard"]
# When candidates see reference answers and rubric texts (viva.app.secrecy says how).
Reveal = Literal["practice", "exam", "never"]
Slug = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """Stored JSON carries computed fields (`covered`, `label`); they are derived, so they
        are recomputed on load, never trusted."""
        computed = cls.model_computed_fields
        if computed and isinstance(data, dict) and computed.keys() & data.keys():
            data = {k: v for k, v in data.items() if k not in computed}
        return data


def _check_alternatives(v: tuple[str, ...]) -> tuple[str, ...]:
    if any(not a.strip() for a in v):
        raise ValueError("alternatives must not contain empty strings")
    return v


class RubricPoint(_Strict):
    """One gradable idea. `alternatives` are other ways a candidate may say it."""

    id: str = Slug
    text: str = Field(min_length=3)
    weight: float = Field(default=1.0, gt=0, le=100)
    alternatives: tuple[str, ...] = ()
    followups: tuple[str, ...] = ()  # questions that probe this point when an answer misses it
    learn: tuple[str, ...] = ()  # documentation URLs to study this point
    draft: bool = False  # drafted by a tool (e.g. an LLM's alternatives): a person checks it

    @field_validator("learn")
    @classmethod
    def _links(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [u for u in v if not u.startswith(("https://", "http://"))]
        if bad:
            raise ValueError(f"learn links must be http(s) URLs: {', '.join(bad)}")
        return v

    _non_empty_alternatives = field_validator("alternatives")(_check_alternatives)

    @property
    def phrasings(self) -> list[str]:
        return [self.text, *self.alternatives]


class Misconception(_Strict):
    """A wrong claim; stating it costs `penalty` (a fraction of the question's score)."""

    id: str = Slug
    text: str = Field(min_length=3)
    penalty: float = Field(default=0.1, gt=0, le=1)
    contradicts: str | None = None  # the id of the point this claim denies, if any
    draft: bool = False  # drafted by a tool: a person checks it, then removes the flag
    # The same wrong claim in other words, so that a paraphrase fires it, not only a near-copy.
    alternatives: tuple[str, ...] = ()

    _non_empty_alternatives = field_validator("alternatives")(_check_alternatives)

    @property
    def phrasings(self) -> list[str]:
        return [self.text, *self.alternatives]


# --- graded examples (anchors) --------------------------------------------------------------


class GradedExample(_Strict):
    """An answer a human has already scored, so the grader can anchor its scale to it.

    Bank-internal: the API's question listings never carry examples, since they are answer keys.
    `misconception` names the question's misconception this answer shows, if any.
    """

    answer: str = Field(min_length=1)
    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    note: str | None = None
    misconception: str | None = None

    @field_validator("answer")
    @classmethod
    def _answer_has_text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("answer must not be blank")
        return v


def _check_examples(
    examples: tuple[GradedExample, ...], misconception_ids: list[str]
) -> tuple[GradedExample, ...]:
    """Each example must name a misconception of its own question and answer something new.

    Raised as a ValidationError located at `examples[i].<field>`, so a bank error points at the
    exact example instead of the whole question.
    """
    errors: list[InitErrorDetails] = []
    known = ", ".join(misconception_ids) or "none"
    seen: dict[str, int] = {}
    for i, ex in enumerate(examples):
        if ex.misconception is not None and ex.misconception not in misconception_ids:
            errors.append(
                {
                    "type": PydanticCustomError(
                        "unknown_misconception",
                        "'{id}' is not a misconception of this question (known: {known})",
                        {"id": ex.misconception, "known": known},
                    ),
                    "loc": (i, "misconception"),
                    "input": ex.misconception,
                }
            )
        key = " ".join(ex.answer.lower().split())
        if key in seen:
            errors.append(
                {
                    "type": PydanticCustomError(
                        "duplicate_example",
                        "the same answer is already given as examples[{first}]",
                        {"first": seen[key]},
                    ),
                    "loc": (i, "answer"),
                    "input": ex.answer,
                }
            )
        seen.setdefault(key, i)
    if errors:
        raise ValidationError.from_exception_data("examples", errors)
    return examples


# --- questions and banks ------------------------------------------------------------------


class Question(_Strict):
    id: str = Slug
    prompt: str = Field(min_length=3)
    topic: str = Field(default="general", min_length=1)
    difficulty: Difficulty = "medium"
    reference_answer: str = ""
    points: tuple[RubricPoint, ...] = Field(min_length=1)
    misconceptions: tuple[Misconception, ...] = ()
    followups: tuple[str, ...] = ()
    examples: tuple[GradedExample, ...] = ()  # graded anchors; see GradedExample

    @field_validator("examples")
    @classmethod
    def _examples_match_question(
        cls, v: tuple[GradedExample, ...], info: ValidationInfo
    ) -> tuple[GradedExample, ...]:
        if "misconceptions" not in info.data:  # already invalid; that error is reported instead
            return v
        return _check_examples(v, [m.id for m in info.data["misconceptions"]])

    @model_validator(mode="after")
    def _unique_ids(self) -> Question:
        ids = [p.id for p in self.points] + [m.id for m in self.misconceptions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate point/misconception ids: {', '.join(dupes)}")
        points = [p.id for p in self.points]
        for m in self.misconceptions:
            if m.contradicts is not None and m.contradicts not in points:
                raise ValueError(
                    f"misconception {m.id!r} contradicts {m.contradicts!r}, which is not a point "
                    f"of this question (points: {', '.join(points)})"
                )
        return self


def topic_words(topic: str) -> str:
    """A topic slug in words ("model-api" -> "Model api"), when the bank names it not."""
    return topic.replace("-", " ").replace("_", " ").capitalize()


class Bank(_Strict):
    id: str = Slug
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    language: str = "en"
    topic_names: dict[str, str] = {}  # topic slug -> display name ("model-api" -> "Model API")
    # This bank's secrecy for candidates; None: the server's VIVA_REVEAL (viva.app.secrecy).
    reveal: Reveal | None = None
    questions: tuple[Question, ...] = Field(min_length=1)

    def topic_name(self, topic: str) -> str:
        """What a person reads for a topic: the bank's name for it, else the slug in words."""
        return self.topic_names.get(topic) or topic_words(topic)

    @model_validator(mode="after")
    def _unique_question_ids(self) -> Bank:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate question ids: {', '.join(dupes)}")
        return self

    def siblings(self, question_id: str) -> tuple[Question, ...]:
        """The bank's other questions: what an answer to `question_id` may have been meant for."""
        return tuple(q for q in self.questions if q.id != question_id)

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
    "vague",
    "off_topic",
    "truncated",
    "contradicts",
    "other_question",
]

FeedbackStatus = Literal["off", "ok", "unavailable"]
Verdict = Literal["covered", "partial", "missing", "contradicted"]


class Span(_Strict):
    """A literal slice of the answer: `answer[start:end] == text`."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


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
    contradiction: Span | None = None  # what the answer said against this point, if anything

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
    guard: str | None = None  # guard heads' versions (data/injection_head.json, vague_head.json)
    prompt: str | None = None  # e.g. "feedback.v1"
    llm_model: str | None = None


class NearestExample(_Strict):
    """The bank's graded example most like the answer, and how hard it pulled the score."""

    index: int  # position in the question's `examples`
    similarity: float
    score: float  # the human score of that example
    weight: float  # 0: no pull; 1: the example decided the score
    note: str | None = None
    misconception: str | None = None


class Anchoring(_Strict):
    """How the question's graded examples moved this grade (see core/anchors.py)."""

    examples: int
    raw_score: float  # before anchoring: the weighted point coverage alone
    # Grades stored while a per-question scale line was fitted still carry it; new ones do not.
    slope: float | None = None
    intercept: float | None = None
    nearest: NearestExample | None = None


class OtherQuestion(_Strict):
    """The question of the same bank (or interview) an answer that earned nothing here reads as
    meant for, and what it would score there (core/scoring.py: reads_as_other)."""

    id: str
    prompt: str
    score: float = Field(ge=0, le=1)


class Grade(_Strict):
    question_id: str
    score: float = Field(ge=0, le=1)
    points: list[PointResult]
    misconceptions: list[MisconceptionResult] = []
    flags: list[Flag] = []
    other_question: OtherQuestion | None = None  # with the "other_question" flag
    provenance: Provenance
    anchoring: Anchoring | None = None
    feedback_status: FeedbackStatus = "off"
    feedback_reason: str | None = None
    feedback: Feedback | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> scoring.Label:
        """ "strong", "partial" or "needs work": one scale everywhere (core/scoring.py)."""
        return scoring.label(self.score)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def contradicts(self) -> list[str]:
        """Ids of the points the answer stated the opposite of ("you said X; the rubric says Y")."""
        return [p.id for p in self.points if p.contradiction is not None]

    @property
    def covered(self) -> list[PointResult]:
        return [p for p in self.points if p.covered]

    @property
    def missed(self) -> list[PointResult]:
        return [p for p in self.points if not p.covered]


# --- reports ------------------------------------------------------------------------------

AnswerStatus = Literal["answered", "skipped", "unanswered", "error"]


class Attempt(_Strict):
    """One try at a question (practice mode keeps the first answer and the retry)."""

    answer: str
    grade: Grade
    time_taken_s: float | None = None


class FollowUpReport(_Strict):
    """The follow-up asked after an answer that missed points, and what it earned."""

    id: str
    prompt: str
    point_ids: list[str]
    status: Literal["answered", "skipped", "unanswered"]
    answer: str | None = None
    grade: Grade | None = None
    earned: list[str] = []  # point ids the follow-up covered that the answer had not


class HumanReview(_Strict):
    """A person's score for a graded answer. The grade keeps Viva's score; the report uses
    this one, and the audit trail keeps both (see viva.app.human_review)."""

    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    viva_score: float
    note: str | None = None
    reviewer: str
    reviewed_at: datetime


class QuestionReport(_Strict):
    question_id: str
    prompt: str
    topic: str
    difficulty: Difficulty
    status: AnswerStatus
    answer: str | None = None
    grade: Grade | None = None  # with a follow-up: the better coverage of the two, per point
    reference_answer: str = ""
    error: str | None = None
    topic_name: str = ""
    attempts: list[Attempt] = []  # practice: every try, first first; `answer`/`grade`: the best
    improvement: float | None = None  # the retry's score minus the first try's
    follow_up: FollowUpReport | None = None
    time_taken_s: float | None = None
    over_time: bool = False  # answered after the interview's time limit per question
    review: HumanReview | None = None  # a person's override; the grade keeps Viva's score

    @property
    def score(self) -> float:
        """The reviewer's score when a person overrode Viva's, else Viva's."""
        if self.review is not None:
            return self.review.score
        return self.grade.score if self.grade else 0.0


class TopicScore(_Strict):
    topic: str
    score: float
    answered: int
    total: int
    name: str = ""  # display name ("Model API")
    verdict: str = ""  # one line
    did_well: list[str] = []  # the candidate's own words that earned points
    study: list[str] = []  # missed points and skipped questions, in plain words

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> scoring.Label:
        return scoring.label(self.score)


class StudyItem(_Strict):
    text: str
    question_id: str | None = None
    learn: list[str] = []  # documentation URLs from the bank


class MisconceptionNote(_Strict):
    """ "You said …; in fact …": a wrong claim the candidate made, and what is true instead."""

    question_id: str
    said: str  # the candidate's words
    in_fact: str


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
    study_next: list[StudyItem]
    misconceptions: list[MisconceptionNote] = []
    flags: list[str] = []
    model: str | None = None
    grader_version: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> scoring.Label:
        return scoring.label(self.overall)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scale(self) -> dict[str, float]:
        """Where the labels change, for charts that draw the lines (core/scoring.py)."""
        return {"passing": scoring.PASSING, "strong": scoring.STRONG}
