"""Follow-ups, practice retries and time taken through the interview use case (fake embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.banks import BankRepository
from viva.app.interviews import Interviews, NewInterview, pending_follow_up
from viva.app.review import Reviewer
from viva.core.grader import Grader
from viva.errors import ConflictError
from viva.store import Repository, open_database

BANK = BankRepository(REPO / "rubrics").get("keras")
WEAK = "Keras has layers."


def full(qid: str) -> str:
    return " ".join(p.text for p in BANK.question(qid).points)


def interviews(repo: Repository) -> Interviews:
    return Interviews(
        repo, BankRepository(REPO / "rubrics"), Grader(FakeEmbedder()), Reviewer(None),
        max_answer_chars=4000,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    r = Repository(open_database(f"sqlite:///{tmp_path / 'viva.db'}"))
    yield r
    r.close()


def test_a_weak_answer_gets_one_follow_up_graded_on_what_is_missing(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02"]))
    out = svc.answer(iv.id, "keras-01", WEAK)
    assert out.follow_up is not None and out.follow_up.id == "keras-01~f1"
    assert out.follow_up.prompt in BANK.question("keras-01").followups
    assert out.practice is None and out.time_taken_s >= 0  # exam mode
    assert out.next_question is not None and out.next_question.id == "keras-02"
    assert pending_follow_up(svc.get(iv.id)) == out.follow_up
    with pytest.raises(ConflictError, match="not a pending follow-up"):
        svc.answer(iv.id, "keras-02~f1", "nothing offered there")
    fu = svc.answer(iv.id, "keras-01~f1", full("keras-01"))
    assert fu.follow_up is None and fu.grade.question_id == "keras-01~f1"
    assert {p.id for p in fu.grade.points} == set(out.follow_up.point_ids)
    assert pending_follow_up(svc.get(iv.id)) is None
    with pytest.raises(ConflictError):  # once only
        svc.answer(iv.id, "keras-01~f1", "again")
    svc.answer(iv.id, "keras-02", full("keras-02"))
    report = svc.report(iv.id)
    q1 = report.questions[0]
    assert q1.follow_up is not None and q1.follow_up.status == "answered"
    assert q1.follow_up.earned and q1.grade is not None
    assert q1.grade.score > out.grade.score  # the follow-up's points joined the answer's
    assert all(p.covered for p in q1.grade.points if p.id in q1.follow_up.earned)
    assert svc.get(iv.id).status == "completed"


def test_a_follow_up_can_be_skipped_or_declined_by_moving_on(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02", "keras-03"]))
    svc.answer(iv.id, "keras-01", WEAK)
    skipped = svc.skip(iv.id, "keras-01~f1")
    assert skipped.skipped == "keras-01~f1"
    assert skipped.next_question is not None and skipped.next_question.id == "keras-02"
    out = svc.answer(iv.id, "keras-02", WEAK)
    assert out.follow_up is not None
    svc.answer(iv.id, "keras-03", WEAK)  # declines keras-02's follow-up
    with pytest.raises(ConflictError, match="not a pending follow-up"):
        svc.answer(iv.id, "keras-02~f1", "too late")
    report = svc.report(iv.id)
    assert [q.follow_up.status for q in report.questions if q.follow_up] == [
        "skipped", "unanswered", "unanswered",
    ]  # fmt: skip


def test_practice_shows_the_model_answer_and_allows_one_retry(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02"], mode="practice"))
    assert iv.mode == "practice" and iv.reveal == "practice"
    first = svc.answer(iv.id, "keras-01", WEAK)
    assert first.practice is not None and first.practice.can_retry
    assert first.practice.reference_answer == BANK.question("keras-01").reference_answer
    assert first.practice.missed and all(m.text for m in first.practice.missed)
    second = svc.answer(iv.id, "keras-01", full("keras-01"), retry=True)
    assert second.practice is not None and not second.practice.can_retry
    assert second.grade.score > first.grade.score
    with pytest.raises(ConflictError, match="already retried"):
        svc.answer(iv.id, "keras-01", "third", retry=True)
    svc.skip(iv.id)
    with pytest.raises(ConflictError, match="right after its grade"):
        svc.answer(iv.id, "keras-01", "late", retry=True)
    report = svc.report(iv.id)
    q1 = report.questions[0]
    assert [a.grade.score for a in q1.attempts] == [first.grade.score, second.grade.score]
    assert q1.grade is not None and q1.grade.score == second.grade.score
    assert q1.answer == full("keras-01")
    assert q1.improvement == pytest.approx(second.grade.score - first.grade.score, abs=1e-4)
    assert q1.time_taken_s is not None and not q1.over_time


def test_exam_mode_has_no_retry_and_replays_keep_the_extras(repo: Repository) -> None:
    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01"], time_limit_s=600))
    assert iv.time_limit_s == 600 and iv.mode == "exam"
    out = svc.answer(iv.id, "keras-01", WEAK, "k1")
    with pytest.raises(ConflictError, match="practice"):
        svc.answer(iv.id, "keras-01", "again", retry=True)
    again = svc.answer(iv.id, "keras-01", WEAK, "k1")
    assert again.replayed and again.follow_up == out.follow_up
    assert again.time_taken_s == out.time_taken_s


def test_time_taken_is_stored_and_an_answer_past_the_limit_is_marked(repo: Repository) -> None:
    import time

    svc = interviews(repo)
    iv = svc.create(NewInterview("keras", question_ids=["keras-01", "keras-02"], time_limit_s=1))
    time.sleep(1.2)
    slow = svc.answer(iv.id, "keras-01", WEAK)
    assert slow.time_taken_s >= 1.2
    svc.skip(iv.id, "keras-01~f1")
    svc.answer(iv.id, "keras-02", full("keras-02"))
    stored = svc.get(iv.id).responses
    assert stored[0].time_taken_s == slow.time_taken_s
    report = svc.report(iv.id)
    assert [q.over_time for q in report.questions] == [True, False]
