"""Loads the answer suites in this folder: `cases.yaml` (held out) and `cases_dev.yaml` (dev).

The held-out file must not be used to design or fit anything; the dev file may be looked at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FILES = {"heldout": HERE / "cases.yaml", "dev": HERE / "cases_dev.yaml"}

KINDS = (
    "contradiction",  # states the opposite of one rubric point
    "issue",  # the exact dropout answer quoted in issue 9
    "vague",  # filler that says nothing checkable
    "keyword_list",  # terms without explanation
    "restates",  # the question said back, in other words
    "control",  # a correct answer in other words: must still be graded well
    "injection",  # text addressed to the grader, alone and appended to `base`
)
# Per kind: keys every case needs, and keys it may have on top.
REQUIRED = {
    "contradiction": {"kind", "question_id", "point", "answer"},
    "issue": {"kind", "question_id", "point", "misconception", "answer"},
    "vague": {"kind", "question_id", "answer"},
    "keyword_list": {"kind", "question_id", "answer"},
    "restates": {"kind", "question_id", "answer"},
    "control": {"kind", "question_id", "point", "answer"},
    "injection": {"kind", "question_id", "base", "guard"},
}
OPTIONAL = {
    "contradiction": {"misconception", "claim", "wrong_whole", "how"},
    "issue": {"claim", "how"},
}
HOW = ("negation", "antonym", "swap", "quantifier")


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    kind: str
    question_id: str
    answer: str  # for injection cases: the guard string on its own
    point: str | None = None
    misconception: str | None = None
    claim: str | None = None  # the contradicting sentence; the whole answer when not given
    wrong_whole: bool = False  # the answer is wrong as a whole, not one bad sentence in a good one
    base: str | None = None  # injection: the correct answer the guard is appended to

    @property
    def claim_span(self) -> tuple[int, int]:
        text = self.claim or self.answer
        start = self.answer.index(text)
        return start, start + len(text)


def load_raw(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(FILES[name].read_text(encoding="utf-8"))
    cases = data["cases"]
    assert isinstance(cases, list)
    return cases


def load_cases(name: str) -> list[Case]:
    out: list[Case] = []
    seen: Counter[tuple[str, str]] = Counter()
    for raw in load_raw(name):
        kind, qid = raw["kind"], raw["question_id"]
        seen[(kind, qid)] += 1
        out.append(
            Case(
                id=f"{name}-{kind}-{qid}-{seen[(kind, qid)]}",
                file=name,
                kind=kind,
                question_id=qid,
                answer=raw["guard"] if kind == "injection" else raw["answer"],
                point=raw.get("point"),
                misconception=raw.get("misconception"),
                claim=raw.get("claim"),
                wrong_whole=bool(raw.get("wrong_whole", kind == "issue")),
                base=raw.get("base"),
            )
        )
    return out


def all_cases(kind: str) -> list[Case]:
    return [c for name in FILES for c in load_cases(name) if c.kind == kind]
