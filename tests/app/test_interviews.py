"""The interview use case without HTTP: domain results, replays, status from the responses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.judge import TIP, FakeJudge
from viva.adapters.banks import BankRepository
from viva.app.interviews import IdempotencyKeyReused, Interviews, NewInterview
from viva.app.review import Reviewer
from viva.core.grader import Grader
from viva.errors import ConflictError, InvalidInputError
from viva.store import Repository, open_database


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    r = Repository(open_database(f"sqlite:///{tmp_path / 'viva.db'}"))
    yield r
    r.close()


def interviews(repo: Repository, judge: FakeJudge | None = None) -> Interviews:
    return Interviews(
        repo,
        BankRepository(REPO / "rubrics"),
        Grader(FakeEmbedder()),
        Reviewer(judge),
        max_answer_chars=200,
    )


def test_answer_skip_and_report(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02"], candidate="Ada"))
    assert iv.status == "in_progress" and iv.completed_at is None
    first = svc.current_question(iv)
    assert first is not None and (first.id, first.index, first.total) == ("keras-01", 0, 2)
    out = svc.answer(iv.id, "keras-01", "Keras is a high-level API with layers.", "k1")
    assert not out.replayed and out.grade.question_id == "keras-01"
    assert out.next_question is not None and out.next_question.id == "keras-02"
    with pytest.raises(ConflictError, match="in progress"):
        svc.report(iv.id)
    skipped = svc.skip(iv.id)
    assert skipped.skipped == "keras-02" and skipped.next_question is None
    done = svc.get(iv.id)
    assert done.status == "completed" and done.completed_at == done.responses[-1].created_at
    report = svc.report(iv.id)
    assert [q.status for q in report.questions] == ["answered", "skipped"]


def test_a_retry_replays_the_stored_result(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02"]))
    first = svc.answer(iv.id, "keras-01", "Keras has layers.", "k1")
    svc.answer(iv.id, "keras-02", "Something else.", "k2")  # the interview moves on
    again = svc.answer(iv.id, "keras-01", "Keras has layers.", "k1")
    assert again.replayed and (again.grade, again.next_question) == (
        first.grade,
        first.next_question,
    )
    with pytest.raises(IdempotencyKeyReused, match="k1"):
        svc.answer(iv.id, "keras-01", "A different answer.", "k1")
    with pytest.raises(InvalidInputError) as err:
        svc.answer(iv.id, "keras-01", "x", " ")
    assert err.value.field == ("idempotency_key",)


def test_llm_feedback_goes_through_the_reviewer(repo: Repository) -> None:
    with pytest.raises(ConflictError, match="VIVA_LLM_BASE_URL"):
        interviews(repo).create(NewInterview("keras", feedback="llm"))
    judge = FakeJudge()
    svc = interviews(repo, judge)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01"], feedback="llm"))
    out = svc.answer(iv.id, "keras-01", "Keras is a high-level API.")
    assert out.grade.feedback is not None and out.grade.feedback.tip == TIP
    assert judge.calls == [("keras-01", "Keras is a high-level API.")]


def test_readiness_reports_model_database_and_llm(repo: Repository) -> None:
    ready = interviews(repo, FakeJudge()).readiness()
    assert (ready.model, ready.database, ready.llm) == ("fake-bag-of-words", "sqlite", "ok")
    assert interviews(repo).readiness().llm == "disabled"


def test_an_answer_is_checked_against_questions_already_asked_not_later_ones(
    repo: Repository,
) -> None:
    banks = BankRepository(REPO / "rubrics")
    svc = Interviews(repo, banks, Grader(FakeEmbedder()), Reviewer(None), max_answer_chars=4000)
    early_stopping = " ".join(p.text for p in banks.get("keras").question("keras-09").points)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-09", "keras-05"]))
    # keras-09's answer at keras-01: keras-09 is still to come, so its prompt is not shown.
    first = svc.answer(iv.id, "keras-01", early_stopping)
    assert first.grade.score <= 0.1
    assert "other_question" not in first.grade.flags and first.grade.other_question is None
    svc.skip(iv.id)  # keras-09: asked, so now it counts
    third = svc.answer(iv.id, "keras-05", early_stopping)
    assert "other_question" in third.grade.flags
    assert third.grade.other_question is not None
    assert third.grade.other_question.id == "keras-09"
    stored = svc.report(iv.id).questions[2].grade
    assert stored is not None and stored.other_question == third.grade.other_question
