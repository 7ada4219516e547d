"""Answers meant for another question of the bank, with the real model at shipped settings.

tests/core/data/other_question_unseen.yaml holds correct answers written for one Keras question
after the rule (core/scoring.py: reads_as_other) was designed on Mohler's data, and before it
was first run on them; nothing was changed after that run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from viva.adapters.banks import load_bank_file
from viva.adapters.calibration_file import load_calibration
from viva.core.grader import Grader, GradeRequest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
UNSEEN = yaml.safe_load((Path(__file__).parent / "data" / "other_question_unseen.yaml").read_text())


@pytest.fixture(scope="module")
def grader(real_embedder):  # type: ignore[no-untyped-def]
    return Grader(real_embedder, load_calibration())


def test_answers_graded_against_the_wrong_question_name_the_one_they_answer(
    grader: Grader,
    keras_bank,  # type: ignore[no-untyped-def]
) -> None:
    named = []
    for case in UNSEEN["answers"]:
        wrong = keras_bank.question(case["against"])
        g = grader.grade(wrong, case["answer"], siblings=keras_bank.siblings(wrong.id))
        if "other_question" in g.flags:
            assert g.other_question is not None
            assert g.other_question.id == case["meant"], case["answer"]
            named.append(case["meant"])
    # Measured when written: 17 of 22, each naming the question it was written for.
    assert len(named) >= 17, f"named {len(named)} of {len(UNSEEN['answers'])}"


def test_the_same_answers_against_their_own_question_are_not_flagged(
    grader: Grader,
    keras_bank,  # type: ignore[no-untyped-def]
) -> None:
    for case in UNSEEN["answers"]:
        own = keras_bank.question(case["meant"])
        g = grader.grade(own, case["answer"], siblings=keras_bank.siblings(own.id))
        assert "other_question" not in g.flags, case["answer"]
        assert g.score >= 0.25, (case["answer"], g.score)


@pytest.mark.parametrize("bank", sorted(p.stem for p in (REPO / "rubrics").glob("*.yaml")))
def test_no_graded_example_of_a_shipped_bank_reads_as_another_question(
    grader: Grader, bank: str
) -> None:
    b = load_bank_file(REPO / "rubrics" / f"{bank}.yaml")
    requests = [
        GradeRequest(q, ex.answer, b.id, b.version, b.siblings(q.id))
        for q in b.questions
        for ex in q.examples
    ]
    flagged = [
        (r.question.id, r.answer)
        for r, g in zip(requests, grader.grade_many(requests), strict=True)
        if "other_question" in g.flags
    ]
    assert not flagged
