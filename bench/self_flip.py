"""Does a span's own denial sit nearer the point than the span does? A test-time contradiction
check that needs no training, measured (bench/scorer_results.md) and not adopted.

For every point a graded answer covers (coverage 0.5 or more, shipped grader, rubric only), the
span shown as its evidence S and the phrasing it matched P: S is turned into its opposite by the
rules of `bench/nli/denials.py` (a negation added or removed, an antonym, two roles swapped), and
so is P. If MiniLM had a usable sense of polarity, a span that contradicts its point would move
toward the point when denied (cos(denial(S), P) > cos(S, P)), and sit nearer the point's denial
than the point; a span that makes the point would move away. Prints, by group and threshold,
how many covered points read as contradicted under each reading:

- good: the banks' graded examples people scored 0.8 or more (their points are made);
- bad: examples scored 0.25 or less (a point they cover is mostly a wrong claim in its words);
- dev: the contradictions of `tests/quality/cases_dev.yaml`, on the point each one denies;
- short: the short correct answers of `tests/quality/` (test_misconceptions_spare_correct.py).

    HF_HUB_OFFLINE=1 PYTHONPATH=service:. .venv/bin/python bench/self_flip.py
"""

from __future__ import annotations

import ast
import os
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import yaml
from bench.nli.denials import denials

from viva.adapters.banks import load_bank_file
from viva.composition import get_components
from viva.core.grader import Grader
from viva.domain.models import Bank, Question
from viva.settings import DEFAULT_MODEL, Settings

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.0, 0.01, 0.02, 0.03, 0.05)


def short_correct() -> list[tuple[str, str]]:
    src = (REPO / "tests/quality/test_misconceptions_spare_correct.py").read_text()
    (found,) = [
        n.value
        for n in ast.parse(src).body
        if isinstance(n, ast.Assign)
        and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == "SHORT_CORRECT"
    ]
    keras: list[tuple[str, str]] = ast.literal_eval(found)
    other = yaml.safe_load((REPO / "tests/quality/short_correct_other_banks.yaml").read_text())
    return keras + [(d["question_id"], d["answer"]) for d in other]


def main() -> None:
    grader: Grader = get_components(
        Settings(embedding_model=DEFAULT_MODEL, embedding_device="cpu")
    ).grader
    banks = [load_bank_file(p) for p in sorted((REPO / "rubrics").glob("*.yaml"))]
    questions: dict[str, tuple[Bank, Question]] = {q.id: (b, q) for b in banks for q in b.questions}
    wanted: list[tuple[str, str, str, str | None]] = []  # group, question, answer, only point
    for b in banks:
        for q in b.questions:
            for ex in q.examples:
                if ex.score >= 0.8:
                    wanted.append(("good", q.id, ex.answer, None))
                elif ex.score <= 0.25:
                    wanted.append(("bad", q.id, ex.answer, None))
    dev = yaml.safe_load((REPO / "tests/quality/cases_dev.yaml").read_text())["cases"]
    wanted += [
        ("dev", c["question_id"], c["answer"], c["point"])
        for c in dev
        if c["kind"] == "contradiction"
    ]
    wanted += [("short", qid, answer, None) for qid, answer in short_correct()]

    readings: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for group, qid, answer, only in wanted:
        bank, q = questions[qid]
        bare = q.model_copy(update={"examples": ()})
        g = grader.grade(bare, answer, bank_id=bank.id, bank_version=bank.version)
        for p in g.points:
            if not p.covered or p.evidence is None or not p.matched or only not in (None, p.id):
                continue
            span, phrasing = p.evidence.text, p.matched
            ds, dp = denials(span), denials(phrasing)
            v = grader.embed_texts([span, phrasing, *ds, *dp])
            v = v / np.linalg.norm(v, axis=1, keepdims=True)
            base = float(v[0] @ v[1])
            moved = [float(x @ v[1]) - base for x in v[2 : 2 + len(ds)]]
            nearer = [float(v[0] @ x) - base for x in v[2 + len(ds) :]]
            readings[group]["denied span moves toward the point (mean)"].append(
                float(np.mean(moved)) if moved else -1.0
            )
            readings[group]["denied span moves toward the point (max)"].append(
                max(moved, default=-1.0)
            )
            readings[group]["span nearer the point's denial (max)"].append(
                max(nearer, default=-1.0)
            )
    groups = ("good", "short", "bad", "dev")
    for reading in readings["good"]:
        print(f"\n{reading}: covered points read as contradicted")
        print("  threshold  " + "  ".join(f"{g:>12s}" for g in groups))
        for t in THRESHOLDS:
            cells = []
            for g in groups:
                xs = readings[g][reading]
                cells.append(f"{sum(x > t for x in xs):>5d} / {len(xs):<5d}")
            print(f"  > {t:<7.2f}  " + "  ".join(f"{c:>12s}" for c in cells))


if __name__ == "__main__":
    main()
