"""How a bank's graded examples rank under the real grader: Spearman per bank and per question.

Each example is graded leave-one-out (its own question carries the other examples as anchors,
never itself), and once with no examples at all (rubric only), so a bank author sees whether the
rubric and the anchors order answers the way the human scores do. Reports; tunes nothing.

    python bench/bank_examples.py rubrics/pytorch.yaml rubrics/sql-data-engineering.yaml
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from viva.adapters.banks import load_bank_file
from viva.adapters.calibration_file import load_calibration
from viva.adapters.embedder import SentenceTransformerEmbedder
from viva.core.grader import Grader, GradeRequest
from viva.core.metrics import spearman


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("banks", nargs="+", type=Path)
    args = ap.parse_args()
    grader = Grader(SentenceTransformerEmbedder(), load_calibration(None))
    for path in args.banks:
        bank = load_bank_file(path)
        human: list[float] = []
        loo: list[float] = []
        bare: list[float] = []
        per_q: list[tuple[str, float, float]] = []
        for q in bank.questions:
            exs = q.examples
            loo_reqs = [
                GradeRequest(
                    q.model_copy(update={"examples": exs[:i] + exs[i + 1 :]}), ex.answer, bank.id
                )
                for i, ex in enumerate(exs)
            ]
            no_ex = q.model_copy(update={"examples": ()})
            bare_reqs = [GradeRequest(no_ex, ex.answer, bank.id) for ex in exs]
            q_loo = [g.score for g in grader.grade_many(loo_reqs)]
            q_bare = [g.score for g in grader.grade_many(bare_reqs)]
            q_human = [ex.score for ex in exs]
            human += q_human
            loo += q_loo
            bare += q_bare
            per_q.append((q.id, spearman(q_human, q_loo), spearman(q_human, q_bare)))
        print(f"{bank.id}: {len(human)} examples in {len(bank.questions)} questions")
        print(
            f"  pooled Spearman  leave-one-out {spearman(human, loo):.3f}  "
            f"rubric only {spearman(human, bare):.3f}"
        )
        print(
            f"  per-question mean leave-one-out "
            f"{statistics.mean(r[1] for r in per_q):.3f}  "
            f"rubric only {statistics.mean(r[2] for r in per_q):.3f}"
        )
        for qid, a, b in per_q:
            print(f"    {qid:28s} loo {a:6.3f}  rubric {b:6.3f}")


if __name__ == "__main__":
    main()
