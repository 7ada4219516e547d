"""Does a score read on a person's scale? Each bank held out in turn from the scale fit.

`viva calibrate` fits the coverage mapping on SemEval, then the banks' graded examples set the
floor, the misconception threshold and the stretch of covered points (`calibration.fit_stretch`).
Here each bank is left out of that second step and its examples are graded by the calibration
fitted on the other banks, with no graded example of their own question (rubric only), with and
without the stretch. Prints, by the score people gave, the mean Viva score and the labels it
reads as, and how many points of answers people scored 0.25 or less count as covered.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/human_scale.py --data ../shared/data/asag
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from viva.app.evaluation import compute_features, fit, fit_on_banks, load_graded
from viva.composition import get_components
from viva.core import scoring
from viva.core.calibration import Calibration
from viva.core.grader import Grader, GradeRequest
from viva.core.metrics import pearson
from viva.domain.models import Bank

BANDS = ((0.9, 1.01), (0.75, 0.9), (0.5, 0.75), (0.25, 0.5), (0.0, 0.25))
SEMEVAL = ("semeval2013_scientsbank_2way_train.jsonl", "semeval2013_beetle_2way_train.jsonl")


def graded(
    grader: Grader, bank: Bank, cal: Calibration
) -> tuple[list[float], list[float], Counter[str]]:
    human: list[float] = []
    reqs: list[GradeRequest] = []
    for q in bank.questions:
        bare = q.model_copy(update={"examples": ()})
        reqs += [GradeRequest(bare, ex.answer, bank.id) for ex in q.examples]
        human += [ex.score for ex in q.examples]
    grades = [grader.from_features(f, cal, anchor=False) for f in grader.features_many(reqs)]
    wrong = Counter[str]()
    for h, g in zip(human, grades, strict=True):
        if h <= 0.25:
            wrong["points"] += len(g.points)
            wrong["covered"] += sum(p.covered for p in g.points)
    return human, [g.score for g in grades], wrong


def table(name: str, human: list[float], viva: list[float]) -> None:
    h, v = np.asarray(human), np.asarray(viva)
    mae = float(np.mean(np.abs(h - v)))
    print(f"{name}: Pearson r {pearson(list(h), list(v)):.3f}, mean absolute error {mae:.3f}")
    print("  people gave      n   Viva mean   strong / partial / needs work")
    for lo, hi in BANDS:
        sel = v[(h >= lo) & (h < hi)]
        labels = Counter(scoring.label(float(x)) for x in sel)
        print(
            f"  [{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}  {len(sel):4d}   "
            f"{float(sel.mean()) if len(sel) else float('nan'):9.3f}   "
            f"{labels['strong']:4d} / {labels['partial']:4d} / {labels['needs work']:4d}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared ASAG data folder")
    args = ap.parse_args()
    grader = get_components().grader
    items = [it for name in SEMEVAL for it in load_graded(args.data / name)]
    semeval = fit(items, compute_features(grader, items), Calibration(), ", ".join(SEMEVAL))
    banks = get_components().banks.all()
    human: list[float] = []
    before: list[float] = []
    after: list[float] = []
    wrong_before, wrong_after = Counter[str](), Counter[str]()
    for held in banks:
        rest = [b for b in banks if b.id != held.id]
        scaled = fit_on_banks(grader, rest, semeval)
        unscaled = fit_on_banks(grader, rest, semeval, stretch=False)
        h, a, wa = graded(grader, held, scaled)
        _, b, wb = graded(grader, held, unscaled)
        print(f"held out {held.id}: {scaled.fitted_on.rsplit('; ', 1)[-1]}")
        human += h
        after += a
        before += b
        wrong_before += wb
        wrong_after += wa
    print()
    table("without the stretch", human, before)
    table("with the stretch fitted on the other banks", human, after)
    for name, w in (("without", wrong_before), ("with", wrong_after)):
        print(
            f"points of answers people scored <= 0.25 counted covered, {name} the stretch: "
            f"{w['covered']} of {w['points']}"
        )


if __name__ == "__main__":
    main()
