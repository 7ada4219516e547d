"""Turning per-question grades into a report that advises: per topic a verdict, what was done
well in the candidate's own words and what to study; misconceptions explained; study items
with the bank's `learn` links, skipped questions included. One scale throughout
(core/scoring.py), so a score, its label and its counts never disagree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from viva.core import scoring
from viva.core.wording import counted
from viva.domain.models import (
    Grade,
    MisconceptionNote,
    Question,
    QuestionReport,
    Report,
    StudyItem,
    TopicScore,
    topic_words,
)

MAX_QUOTE = 160
MAX_GIST_WORDS = 12
MAX_ITEM_POINTS = 3  # a study item names this many missed points, then counts the rest
MAX_QUOTES = 3  # did-well quotes per topic
_CLAUSE_BREAKS = (
    "; ", ": ", " — ", " - ", ", so ", ", which ", ", because ", " because ", ", and ", ", but ",
    ", giving ", ", while ", " so that ", ", for example", ", e.g.", " (",
)  # fmt: skip
_LOWER_STARTS = {"a", "an", "the", "each", "it", "its", "this", "these", "those", "they", "you"}
_VERDICT = {
    "strong": "you can explain this topic",
    "partial": "the basics are there; close the gaps below",
    "needs work": "start your study here",
}


def gist(text: str) -> str:
    """A rubric sentence said short: its first clause, at most a dozen words, so a study list
    reads as notes, not as the rubric copied out."""
    t = " ".join(text.split()).rstrip(".")
    cuts = [i for sep in _CLAUSE_BREAKS if (i := t.find(sep)) >= 15]
    if cuts:
        t = t[: min(cuts)]
    words = t.split()
    if len(words) > MAX_GIST_WORDS:
        t = " ".join(words[:MAX_GIST_WORDS]).rstrip(",;:") + "…"
    first, _, rest = t.partition(" ")
    if first.lower() in _LOWER_STARTS:
        t = f"{first.lower()} {rest}".strip()
    return t


def _quote(text: str) -> str:
    t = " ".join(text.split())
    return f"“{t if len(t) <= MAX_QUOTE else t[: MAX_QUOTE - 1].rstrip() + '…'}”"


def _learn(q: Question | None, point_ids: Sequence[str]) -> list[str]:
    if q is None:
        return []
    want = set(point_ids)
    links = [u for p in q.points if p.id in want for u in p.learn]
    return list(dict.fromkeys(links))


def _missed(g: Grade) -> list[str]:
    """Missed point ids, heaviest first."""
    return [p.id for p in sorted(g.points, key=lambda p: -p.weight) if not p.covered]


def _did_well(it: QuestionReport) -> list[str]:
    """The candidate's own words behind the points they made well (the follow-up's too)."""
    quotes: list[str] = []
    grades = [it.grade] + ([it.follow_up.grade] if it.follow_up and it.follow_up.grade else [])
    for g in grades:
        if g is None:
            continue
        for p in sorted(g.points, key=lambda p: -p.weight):
            if p.coverage >= scoring.STRONG and p.evidence is not None:
                quotes.append(_quote(p.evidence.text))
    return list(dict.fromkeys(quotes))


def _notes(it: QuestionReport, q: Question | None) -> list[MisconceptionNote]:
    """ "You said …; in fact …" for each wrong claim, in the candidate's words where known; in
    fact: the point the bank links the claim to, else the model answer, said short."""
    g = it.grade
    if g is None:
        return []
    links = {m.id: m.contradicts for m in q.misconceptions} if q is not None else {}
    texts = {p.id: p.text for p in g.points}
    fallback = gist(it.reference_answer) if it.reference_answer else "see the model answer"
    notes: list[MisconceptionNote] = []
    for m in g.misconceptions:
        if not m.triggered:
            continue
        said = m.evidence.text if m.evidence is not None else m.text
        point = links.get(m.id)
        in_fact = _flat(texts[point]).rstrip(".") if point in texts else fallback
        notes.append(
            MisconceptionNote(question_id=it.question_id, said=_flat(said), in_fact=in_fact)
        )
    for p in g.points:
        if p.contradiction is not None and all(
            n.said != _flat(p.contradiction.text) for n in notes
        ):
            notes.append(
                MisconceptionNote(
                    question_id=it.question_id,
                    said=_flat(p.contradiction.text),
                    in_fact=_flat(p.text).rstrip("."),
                )
            )
    return notes


def _distinct(quotes: list[str]) -> list[str]:
    """Quotes in order, without repeats or one that another quote already contains."""
    out: list[str] = []
    for q in dict.fromkeys(quotes):
        inner = q.strip("“”…")
        if not any(inner in other for other in quotes if other != q):
            out.append(q)
    return out


def _short(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_GIST_WORDS]) + ("…" if len(words) > MAX_GIST_WORDS else "")


def _flat(text: str) -> str:
    return " ".join(text.split())


def build_report(
    items: Sequence[QuestionReport],
    *,
    bank_id: str,
    bank_version: str,
    candidate: str | None = None,
    topic_names: Mapping[str, str] | None = None,
    questions: Mapping[str, Question] | None = None,
) -> Report:
    """Skipped and unanswered questions count as 0: the report measures the whole interview.
    `questions` (the interview's snapshot) gives misconception links and `learn` links."""
    names = dict(topic_names or {})
    qs = dict(questions or {})

    def name(topic: str) -> str:
        return names.get(topic) or topic_words(topic)

    items = [it.model_copy(update={"topic_name": name(it.topic)}) for it in items]
    by_topic: dict[str, list[QuestionReport]] = defaultdict(list)
    for it in items:
        by_topic[it.topic].append(it)

    notes = [n for it in items for n in _notes(it, qs.get(it.question_id))]

    topics: list[TopicScore] = []
    study_next: list[tuple[float, int, StudyItem]] = []
    for t, its in sorted(by_topic.items()):
        score = round(sum(i.score for i in its) / len(its), 4)
        study: list[str] = []
        for it in its:
            q = qs.get(it.question_id)
            if it.grade is None:
                study.append(f"the question you skipped: {it.prompt}")
                item = StudyItem(
                    text=f"{name(t)}: answer “{it.prompt}” (you skipped it)",
                    question_id=it.question_id,
                    learn=_learn(q, [p.id for p in q.points] if q else []),
                )
                study_next.append((score, len(study_next), item))
                continue
            missed = _missed(it.grade)
            gists = list(dict.fromkeys(gist(p.text) for p in it.grade.points if p.id in missed))
            study.extend(g for g in gists if g not in study)
            if gists:
                more = len(gists) - MAX_ITEM_POINTS
                shown = "; ".join(gists[:MAX_ITEM_POINTS])
                if more > 0:
                    shown += f" (and {counted(more, 'more point')})"
                item = StudyItem(
                    text=f"{name(t)}: {shown}",
                    question_id=it.question_id,
                    learn=_learn(q, missed),
                )
                study_next.append((score, len(study_next), item))
        for n in notes:
            if any(i.question_id == n.question_id for i in its):
                item = StudyItem(
                    text=f"{name(t)}: unlearn “{_short(n.said)}”; in fact {n.in_fact}",
                    question_id=n.question_id,
                )
                study_next.append((score - 1, len(study_next), item))  # wrong beats missing
        topics.append(
            TopicScore(
                topic=t,
                name=name(t),
                score=score,
                answered=sum(i.status == "answered" for i in its),
                total=len(its),
                verdict=_verdict(score, its),
                did_well=_distinct([q for it in its for q in _did_well(it)])[:MAX_QUOTES],
                study=study,
            )
        )
    overall = round(sum(i.score for i in items) / len(items), 4) if items else 0.0

    strengths = [f"{it.question_id}: {q}" for it in items for q in _did_well(it)]
    gaps: list[str] = []
    flags: list[str] = []
    for it in items:
        if it.grade is None:
            if it.status in ("skipped", "unanswered"):
                gaps.append(f"{it.question_id}: not answered — {it.prompt}")
            continue
        flags.extend(f"{it.question_id}: {f}" for f in it.grade.flags)
        missed = _missed(it.grade)
        gaps.extend(f"{it.question_id}: {gist(p.text)}" for p in it.grade.points if p.id in missed)

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
        study_next=[s for _, _, s in sorted(study_next, key=lambda x: (x[0], x[1]))],
        misconceptions=notes,
        flags=flags,
        model=first.provenance.model if first else None,
        grader_version=first.provenance.grader_version if first else None,
    )


def _verdict(score: float, its: Sequence[QuestionReport]) -> str:
    """One line whose counts agree with the label: "made well" is the strong line, "in part"
    anything covered below it."""
    label = scoring.label(score)
    pts = [p for it in its if it.grade for p in it.grade.points]
    well = sum(p.coverage >= scoring.STRONG for p in pts)
    part = sum(p.covered and p.coverage < scoring.STRONG for p in pts)
    skipped = sum(it.grade is None for it in its)
    parts = [f"{well} of {counted(len(pts), 'key point')} made well, {part} in part"] if pts else []
    if skipped:
        parts.append(f"{counted(skipped, 'question')} skipped")
    counts = ", ".join(parts)
    return f"{label.capitalize()} ({score:.0%}): {_VERDICT[label]}; {counts}."
