"""A second opinion from an LLM, bounded by the embedding grade.

Pure: the reply schema, parsing and sanitising a reply, and `apply_llm_review`, which folds a
review into a grade. The LLM can nudge each point's coverage within a band around the
embedding coverage and can report misconceptions; it never sets the score, and for answers
the guards flagged it can only lower coverage. A point it says the answer contradicts, quoting
the answer, is treated as the grader treats one (`core/contradiction.py`). No network, no
files: the adapter in `viva.adapters.llm` does the talking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from viva.core import guards, scoring
from viva.core.contradiction import contradict
from viva.core.text import content_stems
from viva.domain.models import (
    Feedback,
    Flag,
    Grade,
    MisconceptionResult,
    PointResult,
    Question,
    RubricPoint,
    Span,
    Verdict,
)

# Flags that mean "this answer earns nothing on its own": the LLM may lower coverage, never raise.
NO_RAISE_FLAGS: frozenset[Flag] = frozenset(
    {"prompt_injection", "keyword_list", "empty", "dont_know", "off_topic"}
)

VERDICT_TARGET: dict[Verdict, float] = {
    "covered": 1.0,
    "partial": 0.5,
    "missing": 0.0,
    "contradicted": 0.0,
}

MAX_ITEMS = 5  # feedback bullets kept per list
MAX_ITEM_CHARS = 400
MAX_QUOTE_CHARS = 600
MIN_SHARED_STEMS = 2  # content words a quote must share with its point to count as evidence

# Markers that imitate the fence around the answer: an attempt to close it early.
_FENCE_LIKE = re.compile(r"<<<\s*/?\s*(?:END[-_ ]?)?ANSWER|END[-_ ]ANSWER\s*>>>", re.IGNORECASE)


# --- the reply the LLM must produce --------------------------------------------------------


class _Lenient(BaseModel):
    """Models add stray keys ("score": 10); they are ignored, never trusted."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PointVerdict(_Lenient):
    id: str
    verdict: Verdict
    quote: str = ""

    @field_validator("verdict", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("quote", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v


class MisconceptionClaim(_Lenient):
    id: str
    quote: str = ""

    @field_validator("quote", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return "" if v is None else v


class ReplyFeedback(_Lenient):
    good: list[str] = []
    add: list[str] = []
    tip: str = ""


class LLMReply(_Lenient):
    """What the LLM returns. After `parse_reply`, ids are known and quotes are literal."""

    points: list[PointVerdict] = []
    misconceptions: list[MisconceptionClaim] = []
    feedback: ReplyFeedback = Field(default_factory=ReplyFeedback)


def reply_json_schema(question: Question) -> dict[str, Any]:
    """The strict schema sent as `response_format`; ids are enums so grammars constrain them."""
    point_id: dict[str, Any] = {"type": "string", "enum": [p.id for p in question.points]}
    mis_id: dict[str, Any] = {"type": "string"}
    if question.misconceptions:
        mis_id["enum"] = [m.id for m in question.misconceptions]
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["points", "misconceptions", "feedback"],
        "properties": {
            "points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "verdict", "quote"],
                    "properties": {
                        "id": point_id,
                        "verdict": {"type": "string", "enum": list(VERDICT_TARGET)},
                        "quote": {"type": "string"},
                    },
                },
            },
            "misconceptions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "quote"],
                    "properties": {"id": mis_id, "quote": {"type": "string"}},
                },
            },
            "feedback": {
                "type": "object",
                "additionalProperties": False,
                "required": ["good", "add", "tip"],
                "properties": {"good": strings, "add": strings, "tip": {"type": "string"}},
            },
        },
    }


# --- parsing -------------------------------------------------------------------------------


class ReplyError(ValueError):
    """The reply cannot be used; the message is a short reason shown as `feedback_reason`."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in `text`: servers without JSON modes wrap it in prose or fences."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(obj, dict):
                return obj
        start = text.find("{", start + 1)
    raise ReplyError("the LLM reply contained no JSON object")


def literal_span(quote: str, answer: str, blocked: list[Span] | None = None) -> Span | None:
    """Where `quote` occurs verbatim in the answer, or None (then the quote is dropped).

    Quotes inside instruction-like sentences are dropped too: that text is never evidence.
    """
    q = quote.strip().strip("\"'“”‘’`").strip()
    if not q or len(q) > MAX_QUOTE_CHARS or not re.search(r"\w", q):
        return None
    start = answer.find(q)
    if start < 0:
        return None
    span = Span(text=q, start=start, end=start + len(q))
    for b in blocked or []:
        if span.start < b.end and b.start < span.end:
            return None
    return span


def _relevant(quote: str, point: RubricPoint, question_stems: set[str]) -> bool:
    """Evidence for a point shares two content words with it (or an alternative), beyond the
    question's own words: "Solution" or "Let's solve this step by step" is evidence of nothing."""
    said = set(content_stems(quote)) - question_stems
    wanted: set[str] = set()
    for phrasing in (point.text, *point.alternatives):
        wanted.update(content_stems(phrasing))
    wanted -= question_stems
    return len(said & wanted) >= (min(MIN_SHARED_STEMS, len(wanted)) or 1)


def _clean_items(items: list[str]) -> list[str]:
    out: list[str] = []
    for it in items:
        s = " ".join(str(it).split())[:MAX_ITEM_CHARS]
        if s and s not in out:
            out.append(s)
    return out[:MAX_ITEMS]


def parse_reply(text: str, question: Question, answer: str) -> LLMReply:
    """Validate a raw reply: known ids only (first verdict wins); a quote is kept only when it
    is literal, outside instruction-like sentences, and related to its point."""
    data = extract_json_object(text)
    try:
        reply = LLMReply.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "reply"
        raise ReplyError(
            f"the LLM reply did not match the schema ({where}: {first['msg']})"
        ) from None
    blocked = guards.injection_spans(answer, question.prompt)
    by_id = {p.id: p for p in question.points}
    q_stems = set(content_stems(question.prompt))
    mis_ids = {m.id for m in question.misconceptions}
    points: list[PointVerdict] = []
    seen: set[str] = set()
    for pv in reply.points:
        if pv.id in by_id and pv.id not in seen:
            seen.add(pv.id)
            span = literal_span(pv.quote, answer, blocked)
            if span and not _relevant(span.text, by_id[pv.id], q_stems):
                span = None
            points.append(pv.model_copy(update={"quote": span.text if span else ""}))
    claims: list[MisconceptionClaim] = []
    seen = set()
    for mc in reply.misconceptions:
        if mc.id in mis_ids and mc.id not in seen:
            seen.add(mc.id)
            span = literal_span(mc.quote, answer, blocked)
            claims.append(mc.model_copy(update={"quote": span.text if span else ""}))
    fb = ReplyFeedback(
        good=_clean_items(reply.feedback.good),
        add=_clean_items(reply.feedback.add),
        tip=" ".join(reply.feedback.tip.split())[:MAX_ITEM_CHARS],
    )
    if not points and not (fb.good or fb.add or fb.tip):
        raise ReplyError("the LLM reply had no verdicts for this question's points and no feedback")
    return LLMReply(points=points, misconceptions=claims, feedback=fb)


def looks_like_injection(answer: str) -> bool:
    """Instruction-like text, or text imitating the fence around the answer."""
    return bool(guards.injection_spans(answer)) or bool(_FENCE_LIKE.search(answer))


# --- the port ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMReview:
    """One LLM call's outcome: a sanitised reply, or the reason there is none."""

    status: Literal["ok", "unavailable"]
    reason: str | None = None
    reply: LLMReply | None = None
    model: str | None = None
    prompt: str | None = None  # e.g. "feedback.v1"
    injection: bool = False  # the answer looked like it addressed the grader
    answer: str | None = None  # to locate quotes as spans in the grade

    @classmethod
    def unavailable(
        cls, reason: str, *, model: str | None = None, prompt: str | None = None
    ) -> LLMReview:
        return cls(status="unavailable", reason=reason, model=model, prompt=prompt)


@runtime_checkable
class LLMJudge(Protocol):
    """Anything that can review a graded answer. `review` must never raise."""

    model: str
    prompt: str

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview: ...


# --- folding a review into a grade -----------------------------------------------------------


def mark_unavailable(grade: Grade, reason: str) -> Grade:
    """The original grade, untouched but for the status and why: never invented feedback."""
    return grade.model_copy(
        update={"feedback_status": "unavailable", "feedback_reason": reason, "feedback": None}
    )


def bounded_coverage(base: float, verdict: Verdict, band: float, *, may_raise: bool) -> float:
    """Move toward the verdict's target, at most `band` away from the embedding coverage."""
    target = VERDICT_TARGET[verdict]
    new = min(max(target, base - band), base + band)
    if not may_raise:
        new = min(new, base)
    return round(min(max(new, 0.0), 1.0), 4)


def apply_llm_review(
    grade: Grade, review: LLMReview, band: float, links: Mapping[str, str] | None = None
) -> Grade:
    """Fold a review into a grade. The embedding grade stays the base and stays visible.

    `links` maps a misconception to the point it denies (the bank's `contradicts`): one the LLM
    quotes contradicts that point, as in the grader.
    """
    if review.status != "ok" or review.reply is None:
        return mark_unavailable(grade, review.reason or "the LLM gave no review")
    band = min(max(band, 0.0), 1.0)
    flags = list(grade.flags)
    if review.injection and "prompt_injection" not in flags:
        flags.append("prompt_injection")
    answer_may_raise = not (set(flags) & NO_RAISE_FLAGS)
    answer = review.answer or ""

    verdicts = {v.id: v for v in review.reply.points}
    points: list[PointResult] = []
    for p in grade.points:
        base = p.embedding_coverage if p.embedding_coverage is not None else p.coverage
        v = verdicts.get(p.id)
        if v is None:
            points.append(p.model_copy(update={"coverage": base, "embedding_coverage": base}))
            continue
        # Credit needs evidence: a verdict without a literal quote can only lower coverage.
        may_raise = answer_may_raise and bool(v.quote)
        cov = bounded_coverage(base, v.verdict, band, may_raise=may_raise)
        update: dict[str, Any] = {
            "coverage": cov,
            "embedding_coverage": base,
            "llm_verdict": v.verdict,
        }
        if cov > base and p.evidence is None and v.quote:
            update["evidence"] = literal_span(v.quote, answer)
        p = p.model_copy(update=update)
        said = literal_span(v.quote, answer) if v.verdict == "contradicted" else None
        if said is not None:
            p = contradict(p, said, keep_embedding=True)
        points.append(p)

    claims = {c.id: c for c in review.reply.misconceptions if c.quote}
    misconceptions: list[MisconceptionResult] = []
    for m in grade.misconceptions:
        c = claims.get(m.id)
        if c is not None and not m.triggered:
            m = m.model_copy(
                update={
                    "triggered": True,
                    "applied_penalty": m.penalty,
                    "evidence": literal_span(c.quote, answer),
                    "source": "llm",
                }
            )
        misconceptions.append(m)
    denied = links or {}
    stated = {
        denied[m.id]: m.evidence
        for m in misconceptions
        if m.source == "llm" and m.evidence is not None and m.id in denied
    }
    points = [
        contradict(p, span, keep_embedding=True) if (span := stated.get(p.id)) else p
        for p in points
    ]
    if any(p.contradiction is not None for p in points) and "contradicts" not in flags:
        flags.append("contradicts")

    fb = review.reply.feedback
    # Praise for an answer that tried to steer the grader is what the steering asked for:
    # keep the advice (what to add, the tip), drop the compliments.
    good = [] if "prompt_injection" in flags else list(fb.good)
    score = scoring.score(points, [m.applied_penalty for m in misconceptions])
    other = grade.other_question
    if other is not None and score > scoring.OTHER_QUESTION_OWN_MAX:
        # The review found this question answered after all: "meant for another" no longer holds.
        flags, other = [f for f in flags if f != "other_question"], None
    return grade.model_copy(
        update={
            "points": points,
            "misconceptions": misconceptions,
            "flags": flags,
            "other_question": other,
            "score": score,
            "feedback_status": "ok",
            "feedback_reason": None,
            "feedback": Feedback(good=good, add=list(fb.add), tip=fb.tip),
            "provenance": grade.provenance.model_copy(
                update={"prompt": review.prompt, "llm_model": review.model}
            ),
        }
    )
