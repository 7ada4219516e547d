"""An interview with `"feedback": "llm"` over HTTP, against the fake OpenAI-compatible server:
feedback and bounded verdicts when the LLM answers; a complete interview when it is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_settings
from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, refused_url, reply, server_error
from viva.api import create_app
from viva.core.grader import Grader
from viva.domain.models import Bank

ANSWER = (
    "Keras is a high-level API with ready-made layers and a built-in fit loop, so a model takes "
    "a few lines. Plain PyTorch makes you write the training loop yourself."
)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def app_for(tmp_path: Path, base_url: str | None) -> TestClient:
    extra: dict[str, Any] = {"prompts_dir": REPO / "prompts", "llm_timeout": 2, "llm_retries": 0}
    if base_url:
        extra |= {"VIVA_LLM_BASE_URL": base_url, "llm_model": "fake-model"}
    s = make_settings(tmp_path, **extra)
    return TestClient(create_app(s, grader=Grader(FakeEmbedder())), raise_server_exceptions=False)


def interview_answer(c: TestClient) -> dict[str, Any]:
    r = c.post(
        "/v1/interviews",
        json={"bank_id": "keras", "question_ids": ["keras-01"], "feedback": "llm"},
    )
    assert r.status_code == 201, r.text
    iv = r.json()
    r = c.post(
        f"/v1/interviews/{iv['id']}/answers",
        json={"question_id": "keras-01", "answer": ANSWER},
        headers={"Idempotency-Key": "k1"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["grade"])


def test_interview_gets_bounded_llm_feedback(
    tmp_path: Path, fake_llm: FakeOpenAIServer, keras_bank: Bank
) -> None:
    q = keras_bank.question("keras-01")
    fake_llm.default = lambda _req: reply(
        {
            "points": [{"id": p.id, "verdict": "covered", "quote": ANSWER} for p in q.points],
            "misconceptions": [],
            "feedback": {
                "good": ["Clear contrast."],
                "add": ["Keras 3 backends."],
                "tip": "Be brief.",
            },
        }
    )
    with app_for(tmp_path, fake_llm.base_url) as c:
        g = interview_answer(c)
        assert g["feedback_status"] == "ok", g["feedback_reason"]
        assert g["feedback"] == {
            "good": ["Clear contrast."], "add": ["Keras 3 backends."], "tip": "Be brief.",
        }  # fmt: skip
        assert g["provenance"]["prompt"] == "feedback.v1"
        assert g["provenance"]["llm_model"] == "fake-model"
        for p in g["points"]:
            assert p["llm_verdict"] == "covered"
            assert p["embedding_coverage"] <= p["coverage"] <= p["embedding_coverage"] + 0.25 + 1e-9
        (req,) = fake_llm.requests
        assert req["model"] == "fake-model" and "<<<ANSWER-" in req["messages"][1]["content"]
        assert c.get("/readyz").json()["llm"] == "ok"


def test_interview_completes_when_the_llm_is_down(
    tmp_path: Path, fake_llm: FakeOpenAIServer
) -> None:
    with app_for(tmp_path, refused_url()) as c:
        g = interview_answer(c)
        assert g["feedback_status"] == "unavailable" and g["feedback"] is None
        assert "cannot reach the LLM server" in g["feedback_reason"]
        assert all(p["llm_verdict"] is None for p in g["points"])
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["llm"] == "degraded"


def test_server_error_is_unavailable_not_500(tmp_path: Path, fake_llm: FakeOpenAIServer) -> None:
    fake_llm.push(server_error(503))
    with app_for(tmp_path, fake_llm.base_url) as c:
        g = interview_answer(c)
        assert g["feedback_status"] == "unavailable" and "HTTP 503" in g["feedback_reason"]


def test_readyz_without_an_llm_says_disabled(tmp_path: Path) -> None:
    with app_for(tmp_path, None) as c:
        assert c.get("/readyz").json()["llm"] == "disabled"
