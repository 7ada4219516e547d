"""Wrong answers must not be told they made points: counted over every bank's graded examples.

The trust suite checks a denied point's coverage inside cases that mostly fail for other
reasons, so a change that credits more wrong statements can leave it as it was. A first human
scale, a temperature and shift over coverage (reverted), did exactly that: it moved the covered
line from 0.5 to about 0.41 of the old scale, and on examples people scored 0.25 or less,
covered points went from 47 to 157 of 1,239 (bench/scorer_results.md). This counts them, rubric
only (no example of the answer's own question), with the real model and the shipped
calibration.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from viva.adapters.banks import load_bank_file
from viva.core.grader import Grader, GradeRequest

pytestmark = pytest.mark.slow

WRONG = 0.25  # examples people scored at most this are wrong or empty of content
MAX_COVERED_SHARE = 0.05  # of their points; 0.038 when written, 0.127 with that scale


def test_wrong_examples_rarely_earn_a_covered_point(shipped_grader: Grader) -> None:
    covered = total = 0
    for path in sorted((REPO / "rubrics").glob("*.yaml")):
        bank = load_bank_file(path)
        for q in bank.questions:
            bare = q.model_copy(update={"examples": ()})
            wrong = [ex.answer for ex in q.examples if ex.score <= WRONG]
            for g in shipped_grader.grade_many([GradeRequest(bare, a, bank.id) for a in wrong]):
                covered += sum(p.covered for p in g.points)
                total += len(g.points)
    assert total > 1000, "the banks lost their wrong graded examples"
    assert covered / total <= MAX_COVERED_SHARE, f"{covered} of {total} points covered"
