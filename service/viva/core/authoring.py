"""Help for bank authors: draft points from a reference answer, and the warnings
`viva rubric check` prints. Word overlap only (content stems), so checking a bank loads no
model and gives the same answer everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from viva.core.scoring import PASSING
from viva.core.text import content_stems, split_sentences
from viva.domain.models import Question, RubricPoint

NEAR_DUPLICATE = 0.6
"""Share of content words (Jaccard) from which two points of a question read as one idea
said twice: an answer then earns both or neither, which double counts it."""

COVERS = 0.5
"""Share of a point's content words a passing example must use to count as showing it."""


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def slug(text: str, taken: set[str]) -> str:
    """A short id from the first content words, unique among `taken`."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if content_stems(w)][:3]
    base = "-".join(words)[:40].strip("-") or "point"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out


def points_from_sentences(reference: str) -> tuple[RubricPoint, ...]:
    """One point per sentence of the reference that has content words, weights even."""
    texts = [s.text.strip() for s in split_sentences(" ".join(reference.split()))]
    texts = [t for t in texts if len(t) >= 3 and content_stems(t)]
    if not texts:
        raise ValueError("a reference answer with no content words cannot define rubric points")
    taken: set[str] = set()
    return tuple(RubricPoint(id=slug(t, taken), text=t, weight=1.0) for t in texts)


@dataclass(frozen=True)
class Warning:
    question_id: str
    message: str


def warnings(q: Question) -> list[Warning]:
    """Drafts left in, near-duplicate points, and points no passing graded example shows."""
    out: list[Warning] = []
    for p in q.points:
        if p.draft:
            out.append(Warning(q.id, f"point {p.id} is a draft: check it, then remove `draft`"))
    for m in q.misconceptions:
        if m.draft:
            out.append(
                Warning(q.id, f"misconception {m.id} is a draft: check it, then remove `draft`")
            )
    stems = {p.id: set(content_stems(" ".join([p.text, *p.alternatives]))) for p in q.points}
    pts = list(q.points)
    for i, a in enumerate(pts):
        for b in pts[i + 1 :]:
            sim = _jaccard(set(content_stems(a.text)), set(content_stems(b.text)))
            if sim >= NEAR_DUPLICATE:
                out.append(
                    Warning(q.id, f"points {a.id} and {b.id} are near duplicates "
                                  f"({sim:.0%} shared words): merge them or tell them apart")
                )  # fmt: skip
    passing = [set(content_stems(e.answer)) for e in q.examples if e.score >= PASSING]
    if q.examples:
        for p in q.points:
            own = set(content_stems(p.text))
            if own and not any(len(own & ex) / len(own) >= COVERS for ex in passing):
                alt = stems[p.id]
                if not any(len(alt & ex) / max(len(own), 1) >= COVERS for ex in passing):
                    out.append(Warning(q.id, f"point {p.id}: no passing graded example shows it"))
    return out


def apply_llm_draft(q: Question, reply: object) -> Question:
    """The question with the LLM's alternatives and misconceptions added, each marked
    `draft: true`. Anything malformed in the reply is dropped, never trusted."""
    from viva.domain.models import Misconception

    if not isinstance(reply, dict):
        return q
    alts = reply.get("alternatives")
    points = []
    for p in q.points:
        extra = alts.get(p.id) if isinstance(alts, dict) else None
        new = tuple(a.strip() for a in (extra or []) if isinstance(a, str) and len(a.strip()) >= 3)
        points.append(
            p.model_copy(update={"alternatives": p.alternatives + new, "draft": True}) if new else p
        )
    taken = {p.id for p in q.points} | {m.id for m in q.misconceptions}
    point_ids = {p.id for p in q.points}
    mis = list(q.misconceptions)
    for m in reply.get("misconceptions") or []:
        if not isinstance(m, dict) or not isinstance(m.get("text"), str):
            continue
        text = m["text"].strip()
        if len(text) < 3:
            continue
        against = m.get("contradicts")
        mis.append(
            Misconception(
                id=slug(text, taken),
                text=text,
                contradicts=against if against in point_ids else None,
                draft=True,
            )
        )
    return q.model_copy(update={"points": tuple(points), "misconceptions": tuple(mis)})
