"""How often the guards fire on real answers that should not trip them: the README's
false-positive figures for the injection grammar, the keyword-list rule and the `vague` flag.

Reads the shared graded data (every answer of every file in DATA) and the shipped banks (their
points, alternatives, reference answers and graded examples). Prints:
- answers and bank texts with a sentence the injection grammar reads as addressed to the grader;
- answers read as keyword lists;
- Mohler answers people scored 0.8 or more that the shipped grader flags `vague` (real model).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/guard_rates.py --data ../shared/data/asag
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from viva.adapters.banks import load_bank_file
from viva.app.evaluation import load_graded
from viva.composition import get_components
from viva.core import guards
from viva.settings import DEFAULT_MODEL, Settings

REPO = Path(__file__).resolve().parents[1]
GOOD = 0.8  # Mohler answers people scored at least this (of 1) are answers, not filler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of graded .jsonl files")
    args = ap.parse_args()

    answers = [
        json.loads(line)["answer"]
        for path in sorted(args.data.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    bank_texts: list[str] = []
    for path in sorted((REPO / "rubrics").glob("*.yaml")):
        for q in load_bank_file(path).questions:
            bank_texts += [ph for p in q.points for ph in p.phrasings]
            bank_texts += [q.reference_answer] + [ex.answer for ex in q.examples]
    texts = answers + bank_texts
    injected = [t for t in texts if guards.injection_spans(t)]
    print(f"injection grammar: {len(injected)} of {len(texts)} answers and bank texts flagged")
    for t in injected:
        print(f"  {t[:120]!r}")
    lists = sum(guards.looks_like_keyword_list(a) for a in answers)
    print(f"keyword lists: {lists} of {len(answers)} answers")

    grader = get_components(
        Settings(embedding_model=DEFAULT_MODEL, embedding_device="cpu", calibration_file=None)
    ).grader
    good = [it for it in load_graded(args.data / "mohler_dev.jsonl") if it.gold >= GOOD]
    vague = sum("vague" in g.flags for g in grader.grade_many([it.request for it in good]))
    print(f"vague: {vague} of {len(good)} Mohler answers people scored >= {GOOD}")


if __name__ == "__main__":
    main()
