"""Every bank shipped in rubrics/ loads, and is rich enough to practise on (issue 12, section 5).

Loading goes through the real bank loader, so a broken link, an unknown misconception id or a
duplicate example fails here, not in front of a candidate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from viva.adapters.banks import BankRepository, bank_files, load_bank_file
from viva.domain.models import Bank

BANK_FILES = bank_files([REPO / "rubrics"])
LEGACY = {"keras"}  # predates issue 12: 11 questions and no follow-ups or links per point
MIN_QUESTIONS = 12
MIN_EXAMPLES = 8


def _id(path: Path) -> str:
    return path.stem


@pytest.fixture(scope="module", params=BANK_FILES, ids=_id)
def bank(request: pytest.FixtureRequest) -> Bank:
    return load_bank_file(request.param)


def test_the_server_loads_every_shipped_bank_with_distinct_ids() -> None:
    """The repository refuses a duplicate id, so one bank per file proves the ids are distinct."""
    ids = [b.id for b in BankRepository(REPO / "rubrics").all()]
    assert len(ids) == len(BANK_FILES)
    assert {"keras", "ml-fundamentals", "python"} <= set(ids)


def test_every_question_has_enough_graded_examples(bank: Bank) -> None:
    thin = [q.id for q in bank.questions if len(q.examples) < MIN_EXAMPLES]
    assert not thin, f"{bank.id}: fewer than {MIN_EXAMPLES} graded examples in {thin}"


def test_examples_span_the_scale_and_show_each_misconception(bank: Bank) -> None:
    """A question's anchors must cover good and bad answers, or the fitted scale is a guess."""
    for q in bank.questions:
        scores = [e.score for e in q.examples]
        assert max(scores) >= 0.85 and min(scores) <= 0.1, (q.id, scores)
        shown = {e.misconception for e in q.examples}
        assert {m.id for m in q.misconceptions} <= shown, q.id


def test_new_banks_meet_issue_12(bank: Bank) -> None:
    if bank.id in LEGACY:
        pytest.skip("predates issue 12")
    assert len(bank.questions) >= MIN_QUESTIONS
    assert set(bank.topics) <= set(bank.topic_names), "every topic needs a display name"
    for q in bank.questions:
        assert 3 <= len(q.points) <= 6, q.id
        assert all(1 <= len(p.alternatives) <= 3 for p in q.points), q.id
        assert q.reference_answer.strip() and q.followups, q.id
        assert any(p.followups for p in q.points), f"{q.id}: no per-point follow-up"
        assert any(p.learn for p in q.points), f"{q.id}: no learn link"
        assert 2 <= len(q.misconceptions) <= 3, q.id
        assert all(m.contradicts for m in q.misconceptions), q.id
