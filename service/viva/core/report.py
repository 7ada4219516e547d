"""Turning per-question grades into a report a candidate can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from viva.core.scoring import STRONG
from viva.domain.models import QuestionReport, Report, TopicScore


def build_report(
    items: Sequence[QuestionReport],
    *,
    bank_id: str,
    bank_version: str,
    candidate: str | None = None,
) -> Report:
    """Skipped and unanswered questions count as 0: the report measures the whole interview."""
    by_topic: dict[str, list[QuestionReport]] = defaultdict(list)
    for it in items:
        by_topic[it.topic].append(it)
    topics = [
        TopicScore(
            topic=t,
            score=round(sum(i.score for i in its) / len(its), 4),
            answered=sum(i.status == "answered" for i in its),
            total=len(its),
        )
        for t, its in sorted(by_topic.items())
    ]
    overall = round(sum(i.score for i in items) / len(items), 4) if items else 0.0

    strengths: list[str] = []
    gaps: list[str] = []
    flags: list[str] = []
    for it in items:
        if it.grade is None:
            if it.status in ("skipped", "unanswered"):
                gaps.append(f"{it.question_id}: not answered — {it.prompt}")
            continue
        flags.extend(f"{it.question_id}: {f}" for f in it.grade.flags)
        for p in sorted(it.grade.points, key=lambda p: -p.weight):
            if p.coverage >= STRONG:
                strengths.append(f"{it.question_id}: {p.text}")
            elif not p.covered:
                gaps.append(f"{it.question_id}: {p.text}")

    study_next: list[str] = []
    for ts in sorted(topics, key=lambda t: (t.score, t.topic)):
        if ts.score >= STRONG:
            continue
        missed = [
            p.text
            for it in by_topic[ts.topic]
            if it.grade
            for p in sorted(it.grade.points, key=lambda p: -p.weight)
            if not p.covered
        ]
        unanswered = [it.prompt for it in by_topic[ts.topic] if it.grade is None]
        detail = " · ".join(t.rstrip(".") for t in (missed + unanswered)[:3])
        head = f"{ts.topic} ({ts.score:.0%})"
        study_next.append(f"{head}: {detail}" if detail else head)

    first = next((it.grade for it in items if it.grade), None)
    return Report(
        bank_id=bank_id,
        bank_version=bank_version,
        candidate=candidate,
        overall=overall,
        topics=topics,
        questions=list(items),
        strengths=strengths,
        gaps=gaps,
        study_next=study_next,
        flags=flags,
        model=first.provenance.model if first else None,
        grader_version=first.provenance.grader_version if first else None,
    )
