"""Why graded examples no longer fit a per-question line (core/anchors.py): leave one example
out on each bank's graded examples, compare raw scores, the neighbour pull alone, and the pull
plus a per-question least-squares line shrunk toward "no change" (the removed rule, kept here).

    HF_HUB_OFFLINE=1 PYTHONPATH=service python bench/anchor_line.py rubrics/keras.yaml ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr

from viva.adapters.banks import load_bank_file
from viva.composition import get_components
from viva.core import anchors
from viva.core.grader import GradeRequest
from viva.settings import DEFAULT_MODEL, Settings


def line(raw: list[float], human: list[float], shrink: float = 2.0) -> tuple[float, float]:
    """The removed per-question line: least squares, shrunk toward the identity."""
    r, h = np.asarray(raw), np.asarray(human)
    if len(r) < 3 or r.std() < 1e-6:
        return 1.0, 0.0
    slope, intercept = np.polyfit(r, h, 1)
    if slope <= 0:
        return 1.0, 0.0
    k = len(r) / (len(r) + shrink)
    return float(k * slope + (1 - k)), float(k * intercept)


def main(paths: list[str]) -> None:
    grader = get_components(Settings(embedding_model=DEFAULT_MODEL)).grader
    for path in paths:
        bank = load_bank_file(Path(path))
        rows = {"raw": [], "pull": [], "pull+line": []}  # type: dict[str, list[float]]
        human: list[float] = []
        for q in bank.questions:
            bare = q.model_copy(update={"examples": ()})
            feats = grader.features_many([GradeRequest(bare, ex.answer) for ex in q.examples])
            raws = [grader.from_features(f, anchor=False).score for f in feats]
            for i, (ex, f) in enumerate(zip(q.examples, feats, strict=True)):
                others = [j for j in range(len(feats)) if j != i]
                pull = None
                if f.answer_vec is not None:
                    sims = [
                        float(feats[j].answer_vec @ f.answer_vec)
                        if feats[j].answer_vec is not None
                        else 0.0
                        for j in others
                    ]
                    pull = anchors.neighbour_pull(sims, [q.examples[j].score for j in others])
                a, b = line([raws[j] for j in others], [q.examples[j].score for j in others])
                lined = min(max(a * raws[i] + b, 0.0), 1.0) if raws[i] > 0 else 0.0
                human.append(ex.score)
                rows["raw"].append(raws[i])
                rows["pull"].append(anchors.anchored(raws[i], pull) if raws[i] > 0 else 0.0)
                rows["pull+line"].append(anchors.anchored(lined, pull) if raws[i] > 0 else 0.0)
        h = np.asarray(human)
        print(f"{bank.id} ({len(h)} examples)")
        for name, s in rows.items():
            mae = float(np.abs(h - np.asarray(s)).mean())
            print(f"  {name:10s} pearson {pearsonr(h, s)[0]:.3f}  MAE {mae:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
