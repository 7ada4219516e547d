"""The Reviewer: the ±band, "unavailable" instead of errors, the cache, the concurrency bound
and health, with a fake judge and with the real OpenAI transport against the fake server."""

from __future__ import annotations

import re
import threading

import pytest

from tests.adapters.test_llm import ANSWER, good_reply, make_judge
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.judge import TIP, FakeJudge
from tests.fakes.openai_server import FakeOpenAIServer, reply, slow
from viva.app.review import EMPTY_ANSWER, NOT_CONFIGURED, Reviewer
from viva.core.grader import Grader
from viva.domain.models import Bank, Grade, Question


@pytest.fixture
def question(keras_bank: Bank) -> Question:
    return keras_bank.question("keras-01")


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(FakeEmbedder())


def _unavailable(out: Grade, grade: Grade, reason: str) -> None:
    assert out.feedback_status == "unavailable"
    assert out.feedback is None
    assert re.search(reason, out.feedback_reason or ""), out.feedback_reason
    assert out.score == grade.score and out.points == grade.points


# --- with a fake judge ------------------------------------------------------------------------


def test_review_is_folded_in_within_the_band(question: Question, grader: Grader) -> None:
    grade = grader.grade(question, ANSWER)
    out = Reviewer(FakeJudge(), band=0.1).review(question, ANSWER, grade)
    assert out.feedback_status == "ok" and out.feedback is not None and out.feedback.tip == TIP
    assert out.provenance.llm_model == "fake-judge" and out.provenance.prompt == "feedback.v1"
    for before, after in zip(grade.points, out.points, strict=True):
        assert after.embedding_coverage == before.coverage
        assert after.coverage == round(min(before.coverage + 0.1, 1.0), 4)


def test_without_a_judge_every_grade_is_unavailable_and_health_disabled(
    question: Question, grader: Grader
) -> None:
    grade = grader.grade(question, ANSWER)
    reviewer = Reviewer(None)
    assert not reviewer.enabled and reviewer.health().status == "disabled"
    _unavailable(reviewer.review(question, ANSWER, grade), grade, re.escape(NOT_CONFIGURED))
    seen: list[tuple[int, int]] = []
    many = reviewer.review_many([(question, ANSWER, grade)] * 3, lambda d, t: seen.append((d, t)))
    assert [g.feedback_reason for g in many] == [NOT_CONFIGURED] * 3 and seen == [(3, 3)]


def test_a_judge_that_raises_gives_the_grade_back_unavailable(
    question: Question, grader: Grader
) -> None:
    grade = grader.grade(question, ANSWER)
    reviewer = Reviewer(FakeJudge(raises=RuntimeError("boom")))
    out = reviewer.review(question, ANSWER, grade)
    _unavailable(out, grade, r"LLM review failed unexpectedly \(RuntimeError\)")
    health = reviewer.health()
    assert health.status == "degraded" and health.failures == 1
    assert health.last_error == out.feedback_reason


def test_health_is_degraded_only_while_the_last_call_failed(
    question: Question, grader: Grader
) -> None:
    judge = FakeJudge(fail="the fake LLM is down")
    reviewer = Reviewer(judge)
    grade = grader.grade(question, ANSWER)
    reviewer.review(question, ANSWER, grade)
    assert reviewer.health().status == "degraded"
    assert reviewer.health().last_error == "the fake LLM is down"
    judge.fail = None
    assert reviewer.review(question, ANSWER, grade).feedback_status == "ok"  # not cached
    health = reviewer.health()
    assert (health.status, health.calls, health.failures, health.last_error) == ("ok", 2, 1, None)


def test_empty_answers_are_not_sent(question: Question, grader: Grader) -> None:
    judge = FakeJudge()
    grade = grader.grade(question, "  ")
    _unavailable(Reviewer(judge).review(question, "  ", grade), grade, EMPTY_ANSWER)
    assert judge.calls == []


def test_cache_is_bounded_and_keyed_by_judge_and_prompt(question: Question, grader: Grader) -> None:
    judge = FakeJudge()
    reviewer = Reviewer(judge, cache_size=2)
    answers = ["Keras has layers.", "Keras has fit.", "Keras has backends."]
    for a in [answers[0], answers[1], answers[0], answers[2], answers[0], answers[1]]:
        reviewer.review(question, a, grader.grade(question, a))
    # a, b, (a hit), c evicts b, (a hit), b again
    assert [a for _, a in judge.calls] == [answers[0], answers[1], answers[2], answers[1]]
    other_prompt = Reviewer(FakeJudge(prompt="feedback.v2"))
    assert other_prompt.cache_key(question, ANSWER) != reviewer.cache_key(question, ANSWER)


def test_concurrency_is_bounded_across_batch_and_single_callers(
    question: Question, grader: Grader
) -> None:
    judge = FakeJudge(delay=0.05)
    reviewer = Reviewer(judge, concurrency=2)
    items = [(question, f"{ANSWER} {i}", grader.grade(question, ANSWER)) for i in range(6)]
    singles = [
        threading.Thread(target=reviewer.review, args=(question, f"{ANSWER} s{i}", items[0][2]))
        for i in range(4)
    ]
    for t in singles:
        t.start()
    out = reviewer.review_many(items)
    for t in singles:
        t.join()
    assert len(judge.calls) == 10 and judge.max_in_flight == 2
    assert [g.feedback_status for g in out] == ["ok"] * 6


# --- with the OpenAI transport (moved from tests/adapters/test_llm.py) --------------------------


def test_results_are_cached_by_model_prompt_question_answer(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.default = lambda _req: reply(good_reply(question))
    reviewer = Reviewer(make_judge(fake_llm))
    grade = grader.grade(question, ANSWER)
    a = reviewer.review(question, ANSWER, grade)
    b = reviewer.review(question, ANSWER, grade)
    assert a == b and len(fake_llm.requests) == 1
    also = ANSWER + " Also JAX."
    reviewer.review(question, also, grader.grade(question, also))
    assert len(fake_llm.requests) == 2
    other = Reviewer(make_judge(fake_llm, model="other-model"))
    assert other.cache_key(question, ANSWER) != reviewer.cache_key(question, ANSWER)


def test_batch_is_bounded_ordered_and_reports_progress(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.default = lambda _req: slow(0.15, good_reply(question))
    answers = [f"{ANSWER} Variant {i}." for i in range(8)]
    items = [(question, a, grader.grade(question, a)) for a in answers]
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            seen.append((done, total))

    out = Reviewer(make_judge(fake_llm), concurrency=3).review_many(items, progress)
    assert [g.feedback_status for g in out] == ["ok"] * 8
    assert [g.question_id for g in out] == [question.id] * 8
    assert fake_llm.max_in_flight <= 3 and fake_llm.max_in_flight >= 2
    assert sorted(seen) == [(i, 8) for i in range(1, 9)]


def test_status_of_an_injected_judge(fake_llm: FakeOpenAIServer) -> None:
    health = Reviewer(make_judge(fake_llm)).health()
    assert health.status == "ok" and health.model == "test-model"
    assert health.prompt == "feedback.v1"
