"""Follow-up questions and retries, without an LLM: which follow-up to ask after an answer that
missed points, the question it is graded as, and how its grade joins the parent's.

Pure: the same grade and question always give the same follow-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from viva.core import scoring
from viva.domain.models import Grade, Misconception, PointResult, Question

FOLLOW_UP = "~f1"  # a follow-up's id: `<question id>~f1` (at most one per question)
RETRY = "~r1"  # a retry's stored id: `<question id>~r1` (at most one per question)


@dataclass(frozen=True)
class FollowUp:
    id: str
    prompt: str
    parent_id: str
    point_ids: tuple[str, ...]  # the missed points it probes


def follow_up_id(question_id: str) -> str:
    return question_id + FOLLOW_UP


def retry_id(question_id: str) -> str:
    return question_id + RETRY


def parent_of(response_id: str) -> str | None:
    """The question a follow-up or retry id belongs to; None for a question's own id."""
    for suffix in (FOLLOW_UP, RETRY):
        if response_id.endswith(suffix):
            return response_id[: -len(suffix)]
    return None


def missed_ids(question: Question, grades: Sequence[Grade]) -> list[str]:
    """Points no grade covered, heaviest first (bank order breaks ties)."""
    best = best_coverage(grades)
    order = sorted(question.points, key=lambda p: -p.weight)
    return [p.id for p in order if not scoring.is_covered(best.get(p.id, 0.0))]


def choose(question: Question, grades: Sequence[Grade]) -> FollowUp | None:
    """The one follow-up for a question whose answers missed key points, or None.

    The heaviest missed point that has its own follow-ups is probed first; else the question's
    follow-ups probe every missed point. An answer flagged as empty or "don't know" gets none:
    there is nothing to follow up on, the reference answer teaches more.
    """
    if not grades or any({"empty", "dont_know"} & set(g.flags) for g in grades[-1:]):
        return None
    missed = missed_ids(question, grades)
    if not missed:
        return None
    points = {p.id: p for p in question.points}
    for pid in missed:
        if points[pid].followups:
            prompt = points[pid].followups[0]
            return FollowUp(follow_up_id(question.id), prompt, question.id, (pid,))
    if question.followups:
        return FollowUp(
            follow_up_id(question.id), question.followups[0], question.id, tuple(missed)
        )
    return None


def as_question(question: Question, follow_up: FollowUp, missing: Sequence[str]) -> Question:
    """The follow-up as a question to grade: only the points still missing, the parent's
    misconceptions (those about a dropped point lose the link), no graded examples (they
    anchor answers to the whole question, not to a part of it)."""
    keep = set(missing)
    return question.model_copy(
        update={
            "id": follow_up.id,
            "prompt": follow_up.prompt,
            "points": tuple(p for p in question.points if p.id in keep),
            "misconceptions": tuple(
                m if m.contradicts is None or m.contradicts in keep else _unlinked(m)
                for m in question.misconceptions
            ),
            "followups": (),
            "examples": (),
        }
    )


def _unlinked(m: Misconception) -> Misconception:
    return m.model_copy(update={"contradicts": None})


def best_coverage(grades: Sequence[Grade]) -> dict[str, float]:
    out: dict[str, float] = {}
    for g in grades:
        for p in g.points:
            out[p.id] = max(out.get(p.id, 0.0), p.coverage)
    return out


def best_attempt(grades: Sequence[Grade]) -> int:
    """The index of the better try (the first on a tie: a retry must improve to count)."""
    return max(range(len(grades)), key=lambda i: (grades[i].score, -i))


def earned(main: Grade, follow: Grade) -> list[str]:
    """Points the follow-up covered that the answer had not."""
    before = {p.id: p.coverage for p in main.points}
    return [
        p.id for p in follow.points if p.covered and not scoring.is_covered(before.get(p.id, 0))
    ]


def merge(main: Grade, follow: Grade | None) -> Grade:
    """The parent's grade with the better coverage per point. A point the follow-up earned
    takes its coverage (its evidence is in the follow-up's answer, so it has none here); the
    answer's penalties stay, and the score never drops below the answer's own."""
    if follow is None:
        return main
    extra = {p.id: p for p in follow.points}
    points: list[PointResult] = []
    for p in main.points:
        f = extra.get(p.id)
        if f is not None and f.coverage > p.coverage:
            points.append(
                p.model_copy(
                    update={"coverage": f.coverage, "evidence": None, "matched": f.matched}
                )
            )
        else:
            points.append(p)
    penalties = [m.applied_penalty for m in main.misconceptions]
    score = max(main.score, scoring.score(points, penalties))
    return main.model_copy(update={"points": points, "score": score})
