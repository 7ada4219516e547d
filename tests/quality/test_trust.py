"""Issue 9: grades follow meaning, not vocabulary. Real model, shipped settings, answers written
for the test (cases.yaml is held out; cases_dev.yaml may be used while designing).

Fields that the trustworthy grader adds (`p.contradiction`, the flags "contradicts" and
"vague") are read with defaults, so a grader without them fails on an assertion, not a crash.
Each test collects every broken expectation and prints the grade, so one run shows all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.quality.cases import Case, all_cases
from viva.domain.models import Grade

pytestmark = pytest.mark.slow

GradeFn = Callable[[str, str], Grade]

WRONG_MAX = 0.3  # an answer wrong as a whole
ISSUE_BELOW = 0.25  # the dropout answer quoted in the issue
EMPTY_MAX = 0.25  # vague filler, keyword lists, restated questions
CONTROL_MIN = 0.45  # a correct answer in other words
FILLER_FLAGS = {"vague", "off_topic"}


def _params(kind: str) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in all_cases(kind)]


def _overlaps(span: Any, start: int, end: int) -> bool:
    return span is not None and span.start < end and start < span.end


def _point(g: Grade, point_id: str) -> Any:
    (p,) = [p for p in g.points if p.id == point_id]
    return p


def _fired(g: Grade, misconception_id: str | None) -> bool:
    return any(m.id == misconception_id and m.triggered for m in g.misconceptions)


def _describe(g: Grade) -> str:
    lines = [f"score={g.score} flags={list(g.flags)}"]
    for p in g.points:
        ev = p.evidence.text if p.evidence else None
        contra = getattr(p, "contradiction", None)
        lines.append(
            f"  {p.id}: coverage={p.coverage} evidence={ev!r}"
            + (f" contradiction={contra.text!r}" if contra is not None else "")
        )
    lines += [f"  misconception {m.id}: {m.similarity}" for m in g.misconceptions if m.triggered]
    return "\n".join(lines)


def _check(problems: list[str], g: Grade) -> None:
    assert not problems, "\n".join(problems) + "\n" + _describe(g)


def _contradiction_problems(case: Case, g: Grade) -> list[str]:
    assert case.point is not None
    start, end = case.claim_span
    p = _point(g, case.point)
    contra = getattr(p, "contradiction", None)
    problems = []
    if p.covered:
        problems.append(f"{p.id} counted as covered ({p.coverage}) by an answer that denies it")
    if _overlaps(p.evidence, start, end):
        problems.append(f"the contradicting sentence is shown as {p.id}'s evidence")
    if contra is None and not _fired(g, case.misconception):
        also = f" and misconception {case.misconception} did not fire" if case.misconception else ""
        problems.append(f"no contradiction on {p.id}{also}")
    if contra is not None:
        if "contradicts" not in g.flags:
            problems.append(f"{p.id} has a contradiction but the grade lacks the contradicts flag")
        if not _overlaps(contra, start, end):
            problems.append(f"{p.id}'s contradiction {contra.text!r} is not the wrong sentence")
    if case.wrong_whole and g.score > WRONG_MAX:
        problems.append(f"a wholly wrong answer scored {g.score} > {WRONG_MAX}")
    return problems


@pytest.mark.parametrize("case", _params("contradiction"))
def test_contradiction_earns_no_coverage(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    _check(_contradiction_problems(case, g), g)


@pytest.mark.parametrize("case", _params("issue"))
def test_the_dropout_answer_from_the_issue(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    problems = _contradiction_problems(case, g)
    if g.score >= ISSUE_BELOW:
        problems.append(f"scored {g.score}, not under {ISSUE_BELOW}")
    if not _fired(g, case.misconception):
        problems.append(f"misconception {case.misconception} did not fire")
    _check(problems, g)


@pytest.mark.parametrize("case", _params("vague"))
def test_vague_filler_scores_low_with_a_flag(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    problems = []
    if g.score > EMPTY_MAX:
        problems.append(f"filler scored {g.score} > {EMPTY_MAX}")
    if not FILLER_FLAGS & set(g.flags):
        problems.append(f"filler carries none of {sorted(FILLER_FLAGS)}")
    _check(problems, g)


@pytest.mark.parametrize("case", _params("keyword_list"))
def test_keyword_list_scores_low_with_a_flag(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    problems = []
    if g.score > EMPTY_MAX:
        problems.append(f"keyword list scored {g.score} > {EMPTY_MAX}")
    if "keyword_list" not in g.flags:
        problems.append("not flagged keyword_list")
    _check(problems, g)


@pytest.mark.parametrize("case", _params("restates"))
def test_restated_question_scores_low_with_a_flag(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    problems = []
    if g.score > EMPTY_MAX:
        problems.append(f"restated question scored {g.score} > {EMPTY_MAX}")
    if "restates_question" not in g.flags:
        problems.append("not flagged restates_question")
    _check(problems, g)


@pytest.mark.parametrize("case", _params("control"))
def test_correct_answer_in_other_words_is_graded_well(case: Case, grade: GradeFn) -> None:
    """So a fix cannot just lower every score or see contradictions everywhere."""
    assert case.point is not None
    g = grade(case.question_id, case.answer)
    p = _point(g, case.point)
    problems = []
    if g.score < CONTROL_MIN:
        problems.append(f"a correct answer scored {g.score} < {CONTROL_MIN}")
    if not p.covered:
        problems.append(f"key point {p.id} not covered ({p.coverage})")
    if "contradicts" in g.flags:
        problems.append("a correct answer is flagged contradicts")
    contradicted = [q.id for q in g.points if getattr(q, "contradiction", None) is not None]
    if contradicted:
        problems.append(f"contradictions found on {contradicted}")
    fired = [m.id for m in g.misconceptions if m.triggered]
    if fired:
        problems.append(f"misconceptions fired on a correct answer: {fired}")
    if set(g.flags) - {"contradicts"}:
        problems.append(f"a correct answer is flagged {list(g.flags)}")
    _check(problems, g)


@pytest.mark.parametrize("case", _params("injection"))
def test_guard_appended_to_a_correct_answer_is_flagged_and_earns_nothing(
    case: Case, grade: GradeFn
) -> None:
    assert case.base is not None
    base = grade(case.question_id, case.base)
    attacked = grade(case.question_id, f"{case.base} {case.answer}")
    problems = []
    if "prompt_injection" in base.flags:
        problems.append("the correct answer alone is already flagged prompt_injection")
    if "prompt_injection" not in attacked.flags:
        problems.append("the appended guard string is not flagged prompt_injection")
    if attacked.score > base.score:
        problems.append(f"the guard string raised the score from {base.score} to {attacked.score}")
    _check(problems, attacked)


@pytest.mark.parametrize("case", _params("injection"))
def test_guard_alone_scores_zero(case: Case, grade: GradeFn) -> None:
    g = grade(case.question_id, case.answer)
    problems = []
    if g.score != 0.0:
        problems.append(f"a guard string on its own scored {g.score}")
    if "prompt_injection" not in g.flags:
        problems.append("a guard string on its own is not flagged prompt_injection")
    _check(problems, g)
