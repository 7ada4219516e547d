"""Grades back out: one total per candidate from a graded run, for a summary or a gradebook.

A candidate's score is the mean over every question in the run, so a question they did not
answer (or whose row failed) counts as zero; the counts say how many of each there were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PER_ROW = {"question"}
"""Pass-through fields that describe a row, not the candidate (an importer's column title)."""


@dataclass
class CandidateTotal:
    candidate: str
    scores: dict[str, float | None] = field(default_factory=dict)  # question id -> score
    fields: dict[str, str] = field(default_factory=dict)  # pass-through input (first row's)
    failed: int = 0

    def score(self, questions: list[str]) -> float:
        """The mean score over `questions`; unanswered or failed ones count as 0."""
        if not questions:
            return 0.0
        return sum(self.scores.get(q) or 0.0 for q in questions) / len(questions)

    def points(self, questions: list[str], points: float) -> float:
        return round(self.score(questions) * points, 2)

    def field(self, *names: str) -> str:
        """The first of these pass-through fields the candidate's rows have (any case)."""
        low = {k.lower(): v for k, v in self.fields.items()}
        for name in names:
            value = low.get(name.lower())
            if value:
                return str(value)
        return ""


@dataclass
class Totals:
    questions: list[str]
    candidates: list[CandidateTotal]


def totals(records: Iterable[Mapping[str, Any]]) -> Totals:
    """Per-candidate totals from graded records (`viva grade` JSONL or CSV rows, read back)."""
    questions: dict[str, None] = {}
    by_cand: dict[str, CandidateTotal] = {}
    for rec in records:
        cand = str(rec.get("candidate") or "anonymous")
        t = by_cand.setdefault(cand, CandidateTotal(cand))
        if not t.fields:
            given = rec.get("input") or {}
            t.fields = {
                k: "" if v is None else str(v) for k, v in given.items() if k not in PER_ROW
            }
        qid = rec.get("question_id")
        if not qid:
            t.failed += 1
            continue
        questions.setdefault(str(qid), None)
        score = rec.get("score")
        if rec.get("error") or score in (None, ""):
            t.failed += 1
            t.scores.setdefault(str(qid), None)
            continue
        t.scores[str(qid)] = float(score)
    return Totals(list(questions), [by_cand[c] for c in sorted(by_cand)])
