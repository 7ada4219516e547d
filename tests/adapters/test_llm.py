"""The OpenAI-compatible judge through the real `openai` client against the fake server.

Each review goes through the `Reviewer` production uses, so what is asserted is the grade a
caller gets; the reviewer's own rules (cache, concurrency, health) are in tests/app.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Scripted,
    rate_limited,
    refusal,
    refused_url,
    reply,
    server_error,
    slow,
    truncated,
)
from viva.adapters.llm import OpenAICompatibleJudge
from viva.app.review import Reviewer
from viva.core.grader import Grader
from viva.domain.models import Bank, Grade, Question

ANSWER = (
    "Keras is a high-level API with ready-made layers and a built-in fit loop, so a model takes "
    "a few lines. Raw PyTorch makes you write the training loop yourself."
)


@pytest.fixture
def question(keras_bank: Bank) -> Question:
    return keras_bank.question("keras-01")


@pytest.fixture
def grader() -> Grader:
    return Grader(FakeEmbedder())


def good_reply(question: Question, quote: str = "ready-made layers") -> dict[str, Any]:
    return {
        "points": [
            {
                "id": p.id,
                "verdict": "covered" if i == 0 else "missing",
                "quote": quote if i == 0 else "",
            }
            for i, p in enumerate(question.points)
        ],
        "misconceptions": [],
        "feedback": {
            "good": ["Names the high-level building blocks."],
            "add": ["Mention Keras 3's backends."],
            "tip": "Contrast with a hand-written training loop.",
        },
    }


def make_judge(server: FakeOpenAIServer | None, **kw: Any) -> OpenAICompatibleJudge:
    args: dict[str, Any] = {
        "base_url": server.base_url if server else refused_url(),
        "model": "test-model",
        "timeout": 2.0,
        "retries": 0,
        "prompts_dir": REPO / "prompts",
    }
    args.update(kw)
    return OpenAICompatibleJudge(**args)


def user_message(request: dict[str, Any]) -> str:
    return str(next(m["content"] for m in request["messages"] if m["role"] == "user"))


# --- the happy path, and what was sent --------------------------------------------------------


def test_review_sends_fenced_answer_with_strict_schema(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.push(reply(good_reply(question)))
    grade = grader.grade(question, ANSWER)
    out = Reviewer(make_judge(fake_llm, max_tokens=321)).review(question, ANSWER, grade)

    assert out.feedback_status == "ok", out.feedback_reason
    assert out.feedback is not None and out.feedback.tip.startswith("Contrast")
    assert out.provenance.prompt == "feedback.v1" and out.provenance.llm_model == "test-model"
    first = out.points[0]
    assert first.llm_verdict == "covered"
    assert first.embedding_coverage == grade.points[0].coverage
    assert first.coverage <= (first.embedding_coverage or 0) + 0.25

    (req,) = fake_llm.requests
    assert req["model"] == "test-model"
    assert req["max_tokens"] == 321 and req["temperature"] == 0
    rf = req["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
    assert rf["json_schema"]["schema"]["properties"]["points"]["items"]["properties"]["id"][
        "enum"
    ] == [p.id for p in question.points]
    user = user_message(req)
    m = re.search(r"<<<ANSWER-([0-9a-f]{16})>>>\n(.*)\n<<<END-ANSWER-\1>>>", user, re.DOTALL)
    assert m and m.group(2) == ANSWER
    system = req["messages"][0]["content"]
    assert "untrusted" in system and m.group(1) not in system  # a stable, cacheable prefix
    assert user.count(m.group(1)) == 4  # named once before the fence, then the fence itself
    assert fake_llm.headers[0]["authorization"] == "Bearer not-needed"


def test_a_quoted_contradiction_reaches_the_grade(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    wrong = "Keras 3 only runs on TensorFlow, never on JAX or PyTorch."
    answer = ANSWER + " " + wrong
    body = good_reply(question)
    for v in body["points"]:
        if v["id"] == "multi-backend":
            v.update(verdict="contradicted", quote=wrong)
    fake_llm.push(reply(body))
    grade = grader.grade(question, answer)
    out = Reviewer(make_judge(fake_llm)).review(question, answer, grade)

    assert out.feedback_status == "ok", out.feedback_reason
    assert out.contradicts == ["multi-backend"] and "contradicts" in out.flags
    p = next(p for p in out.points if p.id == "multi-backend")
    assert p.contradiction is not None and answer[p.contradiction.start :].startswith(wrong)
    assert p.evidence is None or not p.evidence.overlaps(p.contradiction)
    assert p.coverage <= (p.embedding_coverage or 0.0) and not p.covered


def test_boundary_is_fresh_per_request(fake_llm: FakeOpenAIServer, question: Question) -> None:
    judge = make_judge(fake_llm)
    (m1, t1), (_, t2) = judge.render(question, "a"), judge.render(question, "a")
    assert t1 != t2 and t1 in m1[1]["content"] and t2 not in m1[1]["content"]


# --- JSON mode fallbacks ----------------------------------------------------------------------


def test_falls_back_to_json_object_and_remembers(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.reject_json_schema = True
    fake_llm.default = lambda _req: reply(good_reply(question))
    judge = make_judge(fake_llm)
    out = Reviewer(judge).review(question, ANSWER, grader.grade(question, ANSWER))
    assert out.feedback_status == "ok"
    assert [r["response_format"]["type"] for r in fake_llm.requests] == [
        "json_schema",
        "json_object",
    ]
    assert judge.mode == "json_object"
    Reviewer(judge).review(
        question, "Keras has layers.", grader.grade(question, "Keras has layers.")
    )
    assert fake_llm.requests[-1]["response_format"] == {"type": "json_object"}


def test_falls_back_on_a_500_that_names_response_format(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    """What llama-cpp-python's server really does with an unknown response_format type."""
    fake_llm.reject_json_schema = True
    fake_llm.reject_status = 500
    fake_llm.default = lambda _req: reply(good_reply(question))
    judge = make_judge(fake_llm, retries=2)
    out = Reviewer(judge).review(question, ANSWER, grader.grade(question, ANSWER))
    assert out.feedback_status == "ok", out.feedback_reason
    assert [r["response_format"]["type"] for r in fake_llm.requests] == [
        "json_schema",
        "json_object",
    ]


def test_falls_back_to_prompted_json_in_prose(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    import json

    fake_llm.reject_json_schema = fake_llm.reject_json_object = True
    fake_llm.default = lambda _req: reply(
        "Here is my review:\n```json\n" + json.dumps(good_reply(question)) + "\n```\nHope it helps!"
    )
    judge = make_judge(fake_llm)
    out = Reviewer(judge).review(question, ANSWER, grader.grade(question, ANSWER))
    assert out.feedback_status == "ok", out.feedback_reason
    assert len(fake_llm.requests) == 3 and "response_format" not in fake_llm.requests[-1]
    assert "JSON" in fake_llm.requests[-1]["messages"][0]["content"]
    assert judge.mode == "prompt"


# --- failure is normal ------------------------------------------------------------------------


def _unavailable(out: Grade, grade: Grade, reason: str) -> None:
    assert out.feedback_status == "unavailable"
    assert out.feedback is None
    assert re.search(reason, out.feedback_reason or ""), out.feedback_reason
    assert out.score == grade.score and out.points == grade.points


@pytest.mark.parametrize(
    "scripted, reason",
    [
        (server_error(500), r"failed \(HTTP 500\)"),
        (server_error(503), r"failed \(HTTP 503\)"),
        (reply("{not json"), "no JSON object"),
        (reply('{"points": "everything"}'), "did not match the schema"),
        (truncated(), r"cut off at the token limit \(800 tokens\)"),
        (refusal("I can't help with that."), "refused"),
        (Scripted(body="<html>oops</html>"), "not a chat completion|failed"),
        (reply(""), "empty"),
        (Scripted(status=401, error="bad key"), r"refused the API key \(HTTP 401\)"),
        (Scripted(status=404, error="no such model"), "HTTP 404"),
    ],
)
def test_failures_return_the_grade_unavailable(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader, scripted: Scripted, reason: str
) -> None:
    fake_llm.push(scripted)
    grade = grader.grade(question, ANSWER)
    reviewer = Reviewer(make_judge(fake_llm))
    out = reviewer.review(question, ANSWER, grade)
    _unavailable(out, grade, reason)
    assert reviewer.health().status == "degraded"
    # Failures are not cached: the next call asks again and can succeed.
    fake_llm.push(reply(good_reply(question)))
    assert reviewer.review(question, ANSWER, grade).feedback_status == "ok"
    assert reviewer.health().status == "ok"


def test_timeout(fake_llm: FakeOpenAIServer, question: Question, grader: Grader) -> None:
    fake_llm.push(slow(1.5, good_reply(question)))
    grade = grader.grade(question, ANSWER)
    out = Reviewer(make_judge(fake_llm, timeout=0.5)).review(question, ANSWER, grade)
    _unavailable(out, grade, r"did not answer within 0\.5s")  # gave up; did not wait 1.5 s


def test_connection_refused(question: Question, grader: Grader) -> None:
    grade = grader.grade(question, ANSWER)
    out = Reviewer(make_judge(None, retries=1)).review(question, ANSWER, grade)
    _unavailable(out, grade, "cannot reach the LLM server at http://127.0.0.1:")


def test_stopped_server_is_refused(question: Question, grader: Grader) -> None:
    server = FakeOpenAIServer().start()
    judge = make_judge(server)
    server.stop()
    grade = grader.grade(question, ANSWER)
    _unavailable(Reviewer(judge).review(question, ANSWER, grade), grade, "cannot reach")


def test_429_honours_retry_after_then_succeeds(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.push(rate_limited(0.3), reply(good_reply(question)))
    t0 = time.monotonic()
    judge = make_judge(fake_llm, retries=1)
    out = Reviewer(judge).review(question, ANSWER, grader.grade(question, ANSWER))
    assert out.feedback_status == "ok"
    assert time.monotonic() - t0 >= 0.3 and len(fake_llm.requests) == 2


def test_429_with_long_retry_after_gives_up_at_once(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.push(rate_limited(30))
    grade = grader.grade(question, ANSWER)
    t0 = time.monotonic()
    out = Reviewer(make_judge(fake_llm, retries=3)).review(question, ANSWER, grade)
    assert time.monotonic() - t0 < 2
    _unavailable(out, grade, r"rate limiting requests \(HTTP 429, retry after 30s\)")
    assert len(fake_llm.requests) == 1


def test_5xx_is_retried(fake_llm: FakeOpenAIServer, question: Question, grader: Grader) -> None:
    fake_llm.push(server_error(503), reply(good_reply(question)))
    judge = make_judge(fake_llm, retries=1)
    out = Reviewer(judge).review(question, ANSWER, grader.grade(question, ANSWER))
    assert out.feedback_status == "ok" and len(fake_llm.requests) == 2


def test_empty_answer_is_not_sent(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    grade = grader.grade(question, "   ")
    out = Reviewer(make_judge(fake_llm)).review(question, "   ", grade)
    _unavailable(out, grade, "empty")
    assert fake_llm.requests == []


# --- configuration and odd servers ----------------------------------------------------------


def test_unknown_prompt_is_a_config_error(fake_llm: FakeOpenAIServer) -> None:
    from viva.errors import ConfigError

    with pytest.raises(ConfigError, match="no prompt 'nope'"):
        make_judge(fake_llm, prompt="nope")


def test_a_400_on_every_mode_is_unavailable_and_not_remembered(
    fake_llm: FakeOpenAIServer, question: Question, grader: Grader
) -> None:
    fake_llm.push(*[Scripted(status=400, error="prompt is longer than the context")] * 3)
    judge = make_judge(fake_llm)
    grade = grader.grade(question, ANSWER)
    _unavailable(
        Reviewer(judge).review(question, ANSWER, grade),
        grade,
        r"rejected the request \(HTTP 400: prompt",
    )
    assert len(fake_llm.requests) == 3 and judge.mode == "json_schema"
