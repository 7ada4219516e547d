"""Cross-validated agreement figures: nothing fitted on a held-out row decides its grade."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from tests.core.test_grader import CAL
from tests.fakes.embedder import FakeEmbedder
from viva.app.evaluation import compute_features, cross_validate, load_graded, report
from viva.core.grader import Grader

REF = "Dropout randomly zeroes activations during training to reduce overfitting."
ANSWERS = [
    ("Dropout randomly sets activations to zero while training, reducing overfitting.", True),
    ("It zeroes random activations in training so the model overfits less.", True),
    ("Dropout zeroes activations during training.", True),
    ("Dropout drops some neurons.", False),
    ("It makes the network bigger.", False),
    ("Dropout is an optimizer that speeds up learning.", False),
]


def _labelled(path: Path) -> Path:
    rows = [
        {
            "dataset": "toy",
            "question_id": qid,
            "question": "What does dropout do?",
            "reference_answer": REF,
            "answer": answer,
            "label": "correct" if ok else "incorrect",
        }
        for qid in ("q1", "q2", "q3", "q4")
        for answer, ok in ANSWERS
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_held_out_rows_are_judged_by_their_folds_own_pass_threshold(tmp_path: Path) -> None:
    items = load_graded(_labelled(tmp_path / "toy.jsonl"))
    grader = Grader(FakeEmbedder(), CAL)
    feats = compute_features(grader, items)
    held = cross_validate(grader, items, feats, CAL)
    assert len(held.scores) == len(held.passed) == len(items)
    # The base calibration's threshold (fitted on all rows in real use) plays no part.
    for absurd in (0.0, 0.99):
        again = cross_validate(grader, items, feats, replace(CAL, pass_threshold=absurd))
        assert again.passed == held.passed
    figures = report(items, held.scores, replace(CAL, pass_threshold=0.99), held.passed)["toy"]
    right = sum(p == it.label for p, it in zip(held.passed, items, strict=True)) / len(items)
    assert figures["accuracy"] == right > 0.6
