"""How often `other_question` fires, on real graded answers: the README's figures.

Groups each data set's questions the way a bank would hold them: Mohler's by assignment
(1.1-1.7 are one bank), SciEntsBank's by module (EM, FN, II, ...), Beetle's 47 circuit
questions as one bank. Then, with the shipped grader and each group as the siblings:
- own: every answer people marked correct (Mohler: scored 0.8 or more) graded against its own
  question; how many are flagged, which would tell a candidate who answered the question that
  they answered another;
- cross: those correct answers (every Nth, `--every`; Beetle's: every 5th) graded against every
  other question of the group; how many are flagged, and how many name the question the answer
  was written for.

The rule (core/scoring.py: reads_as_other) was designed on Mohler. SciEntsBank's figures for a
few candidate rules were seen while choosing among them; Beetle was first run on the rule as
shipped.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/other_question_rates.py --data ../shared/data/asag
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from viva.app.evaluation import EvalItem, load_graded
from viva.composition import get_components
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Question
from viva.settings import DEFAULT_MODEL, Settings

GOOD = 0.8  # Mohler answers people scored at least this (of 1) count as correct
FILES = {  # file: (title, how questions are grouped into banks, cross-check every Nth answer)
    "mohler_dev.jsonl": ("Mohler (designed on)", "prefix", 1),
    "semeval2013_scientsbank_2way_train.jsonl": ("SciEntsBank (seen while choosing)", "prefix", 1),
    "semeval2013_beetle_2way_train.jsonl": ("Beetle (first run as shipped)", "one", 5),
}


def group_of(question_key: str, grouping: str = "prefix") -> str:
    """Mohler "mohler2011:3.5" -> "3"; SciEntsBank "...:EM_21b" -> "EM"; "one": one bank."""
    if grouping == "one":
        return ""
    qid = question_key.split(":", 1)[1]
    return qid.split(".")[0] if "." in qid else qid.split("_")[0]


def correct(item: EvalItem) -> bool:
    return item.label if item.label is not None else item.gold >= GOOD


def rates(grader: Grader, items: list[EvalItem], grouping: str, every: int) -> dict[str, int]:
    questions: dict[str, Question] = {}
    for it in items:
        questions.setdefault(it.question_key, it.request.question)
    groups: dict[str, list[str]] = defaultdict(list)
    for key in questions:
        groups[group_of(key, grouping)].append(key)

    def request(it: EvalItem, key: str) -> GradeRequest:
        keys = groups[group_of(key, grouping)]
        siblings = tuple(questions[o] for o in keys if o != key)
        return replace(it.request, question=questions[key], siblings=siblings)

    good = [it for it in items if correct(it)]
    n: dict[str, int] = defaultdict(int)
    own = grader.grade_many([request(it, it.question_key) for it in good])
    n["own"] = len(own)
    n["own_flagged"] = sum(g.other_question is not None for g in own)
    for it in good[::every]:
        keys = [k for k in groups[group_of(it.question_key, grouping)] if k != it.question_key]
        for g in grader.grade_many([request(it, k) for k in keys]):
            other = g.other_question
            n["cross"] += 1
            n["cross_flagged"] += other is not None
            n["cross_named"] += other is not None and other.id == it.request.question.id
    return dict(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of graded .jsonl files")
    ap.add_argument("--every", type=int, help="cross-check every Nth correct answer")
    args = ap.parse_args()
    grader = get_components(Settings(embedding_model=DEFAULT_MODEL)).grader
    for name, (title, grouping, every) in FILES.items():
        n = rates(grader, load_graded(args.data / name), grouping, args.every or every)
        print(
            f"{title}: correct answers flagged against their own question "
            f"{n['own_flagged']} of {n['own']} ({n['own_flagged'] / n['own']:.1%}); graded "
            f"against another question of the group, flagged {n['cross_flagged']} of "
            f"{n['cross']} ({n['cross_flagged'] / n['cross']:.1%}), naming the right one "
            f"{n['cross_named']} ({n['cross_named'] / n['cross']:.1%})"
        )


if __name__ == "__main__":
    main()
