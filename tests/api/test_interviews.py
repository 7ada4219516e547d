"""A whole interview over HTTP, and every way a client can get it wrong (never a 500)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem, make_settings
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.core.feedback import LLMReview
from viva.core.grader import Grader
from viva.domain.models import Bank, Grade, Question


def good_answer(bank: Bank, qid: str) -> str:
    """The rubric points themselves: the fake embedder scores this near 1."""
    return " ".join(p.text for p in bank.question(qid).points)


def start(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/interviews", json={"bank_id": "keras", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def answer(client: TestClient, iv: str, qid: str, text: str, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/v1/interviews/{iv}/answers", json={"question_id": qid, "answer": text}, headers=headers
    )


def test_whole_interview(client: TestClient, keras_bank: Bank) -> None:
    created = start(client, question_count=3, seed=11, candidate="Ada")
    assert created["status"] == "in_progress" and created["seed"] == 11
    assert created["progress"] == {"answered": 0, "skipped": 0, "done": 0, "total": 3}
    q = created["question"]
    assert set(q) == {"id", "prompt", "topic", "difficulty", "index", "total"}
    assert q["index"] == 0 and q["total"] == 3
    iv = created["id"]

    r = answer(client, iv, q["id"], good_answer(keras_bank, q["id"]))
    assert r.status_code == 200, r.text
    grade = r.json()["grade"]
    assert grade["score"] > 0.8 and grade["question_id"] == q["id"]
    assert {"coverage", "similarity", "evidence"} <= set(grade["points"][0])
    assert grade["provenance"]["bank_id"] == "keras" and grade["feedback_status"] == "off"
    second = r.json()["next_question"]
    assert second["index"] == 1

    r = client.post(f"/v1/interviews/{iv}/skip", json={"question_id": second["id"]})
    assert r.status_code == 200 and r.json()["skipped"] == second["id"]
    third = r.json()["next_question"]

    state = client.get(f"/v1/interviews/{iv}").json()
    assert state["status"] == "in_progress" and state["question"]["id"] == third["id"]
    assert [x["id"] for x in state["questions"]] == [q["id"], second["id"], third["id"]]
    assert [x["status"] for x in state["responses"]] == ["answered", "skipped"]
    assert state["responses"][0]["grade"] == grade and state["candidate"] == "Ada"
    assert state["progress"]["done"] == 2

    r = answer(client, iv, third["id"], "I don't know")
    assert r.status_code == 200 and r.json()["next_question"] is None
    assert "dont_know" in r.json()["grade"]["flags"]

    state = client.get(f"/v1/interviews/{iv}").json()
    assert state["status"] == "completed" and state["question"] is None
    assert state["completed_at"] is not None

    report = client.get(f"/v1/interviews/{iv}/report").json()
    assert report["candidate"] == "Ada" and len(report["questions"]) == 3
    assert report["questions"][0]["reference_answer"]  # revealed now
    assert [x["status"] for x in report["questions"]] == ["answered", "skipped", "answered"]
    assert 0.2 < report["overall"] < 0.5  # one good answer of three

    md = client.get(f"/v1/interviews/{iv}/report?format=md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "keras" in md.text
    html = client.get(f"/v1/interviews/{iv}/report", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text.lower()


def test_same_seed_same_questions(client: TestClient) -> None:
    a = start(client, question_count=4, seed=5)
    b = start(client, question_count=4, seed=5)
    assert a["id"] != b["id"] and a["question"] == b["question"]
    qa = client.get(f"/v1/interviews/{a['id']}").json()
    assert qa["seed"] == 5


def test_explicit_questions_and_topics(client: TestClient, keras_bank: Bank) -> None:
    iv = start(client, question_ids=["keras-03", "keras-01"])
    assert iv["question"]["id"] == "keras-03" and iv["question"]["total"] == 2
    topic = keras_bank.questions[0].topic
    iv = start(client, topics=[topic])
    wanted = [q.id for q in keras_bank.questions if q.topic == topic]
    assert iv["question"]["total"] == len(wanted) and iv["question"]["id"] in wanted


def test_questions_ahead_are_not_revealed(client: TestClient) -> None:
    iv = start(client, question_count=3, seed=1)
    state = client.get(f"/v1/interviews/{iv['id']}").json()
    assert len(state["questions"]) == 1
    r = client.get(f"/v1/interviews/{iv['id']}/report")
    assert_problem(r, 409, "in progress")


def test_idempotent_retry_returns_the_stored_result(client: TestClient, keras_bank: Bank) -> None:
    iv = start(client, question_count=2, seed=3)
    qid = iv["question"]["id"]
    text = good_answer(keras_bank, qid)
    first = answer(client, iv["id"], qid, text, key="retry-1")
    again = answer(client, iv["id"], qid, text, key="retry-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("idempotency-replayed") == "true"
    state = client.get(f"/v1/interviews/{iv['id']}").json()
    assert len(state["responses"]) == 1

    # Same key, different body: refused, nothing stored.
    r = answer(client, iv["id"], qid, text + " and more", key="retry-1")
    assert_problem(r, 422, "retry-1", "different request")
    # The retry of the answer still replays even after the interview moved on.
    nxt = first.json()["next_question"]["id"]
    assert answer(client, iv["id"], nxt, "x y z", key="retry-2").status_code == 200
    assert answer(client, iv["id"], qid, text, key="retry-1").json() == first.json()
    # A skip retried with its key replays too; reusing it for an answer does not.
    iv2 = start(client, question_count=2, seed=3)
    s1 = client.post(f"/v1/interviews/{iv2['id']}/skip", headers={"Idempotency-Key": "s"})
    s2 = client.post(f"/v1/interviews/{iv2['id']}/skip", headers={"Idempotency-Key": "s"})
    assert s1.json() == s2.json() and s1.json()["skipped"] == qid
    assert_problem(answer(client, iv2["id"], "keras-01", "a b c", key="s"), 422)


def test_answer_without_key_twice_is_a_conflict(client: TestClient) -> None:
    iv = start(client, question_count=2, seed=3)
    qid = iv["question"]["id"]
    assert answer(client, iv["id"], qid, "first").status_code == 200
    assert_problem(answer(client, iv["id"], qid, "second"), 409, "already answered")


def test_wrong_question_is_a_conflict(client: TestClient, keras_bank: Bank) -> None:
    iv = start(client, question_ids=["keras-01", "keras-02"])
    assert_problem(answer(client, iv["id"], "keras-02", "too early"), 409, "keras-01")
    # In the bank but not in this interview.
    assert_problem(answer(client, iv["id"], "keras-05", "not asked"), 409, "not part")
    assert_problem(
        client.post(f"/v1/interviews/{iv['id']}/skip", json={"question_id": "keras-02"}), 409
    )


def test_completed_interview_refuses_more(client: TestClient) -> None:
    iv = start(client, question_ids=["keras-01"])
    assert client.post(f"/v1/interviews/{iv['id']}/skip").status_code == 200
    assert_problem(answer(client, iv["id"], "keras-01", "late"), 409, "completed")
    assert_problem(client.post(f"/v1/interviews/{iv['id']}/skip"), 409, "completed")
    assert client.get(f"/v1/interviews/{iv['id']}/report").json()["overall"] == 0


def test_not_found(client: TestClient) -> None:
    assert_problem(client.get("/v1/interviews/nope"), 404, "nope")
    assert_problem(client.post("/v1/interviews", json={"bank_id": "nope"}), 404, "nope")
    assert_problem(answer(client, "nope", "keras-01", "x"), 404)
    assert_problem(client.post("/v1/interviews/nope/skip"), 404)
    assert_problem(client.get("/v1/interviews/nope/report"), 404)
    iv = start(client, question_count=1, seed=1)
    assert_problem(answer(client, iv["id"], "keras-99", "x"), 404, "keras-99")
    assert_problem(
        client.post("/v1/interviews", json={"bank_id": "keras", "question_ids": ["zzz"]}),
        404,
        "zzz",
    )
    assert_problem(client.get("/v2/nothing"), 404, "/v2/nothing")


def test_invalid_requests_are_422_problems(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/interviews", json={}), 422, "bank_id")
    assert body["errors"][0]["loc"] == ["body", "bank_id"]
    assert_problem(client.post("/v1/interviews", json={"bank_id": "keras", "extra": 1}), 422)
    assert_problem(
        client.post("/v1/interviews", json={"bank_id": "keras", "question_count": 0}), 422
    )
    assert_problem(
        client.post("/v1/interviews", json={"bank_id": "keras", "question_count": 999}),
        422,
        "question_count",
    )
    assert_problem(
        client.post("/v1/interviews", json={"bank_id": "keras", "topics": ["astrology"]}),
        422,
        "astrology",
    )
    assert_problem(
        client.post("/v1/interviews", json={"bank_id": "keras", "feedback": "maybe"}), 422
    )
    assert_problem(
        client.post(
            "/v1/interviews", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    assert_problem(client.post("/v1/interviews", json=["a", "list"]), 422)
    iv = start(client, question_count=1, seed=1)
    r = client.post(f"/v1/interviews/{iv['id']}/answers", json={"question_id": "keras-01"})
    assert_problem(r, 422, "answer")
    assert_problem(client.get(f"/v1/interviews/{iv['id']}/report?format=pdf"), 422)
    assert_problem(answer(client, iv["id"], iv["question"]["id"], "x", key=" "), 422)
    assert_problem(client.put(f"/v1/interviews/{iv['id']}"), 405)


def test_answer_length_limit_names_field_and_limit(tmp_path: Path) -> None:
    s = make_settings(tmp_path, max_answer_chars=100)
    with TestClient(create_app(s, grader=Grader(FakeEmbedder()))) as c:
        iv = start(c, question_count=1, seed=1)
        r = answer(c, iv["id"], iv["question"]["id"], "x" * 101)
        body = assert_problem(r, 422, "100", "VIVA_MAX_ANSWER_CHARS")
        assert body["errors"][0]["loc"] == ["body", "answer"] and body["errors"][0]["limit"] == 100
        assert answer(c, iv["id"], iv["question"]["id"], "x" * 100).status_code == 200


def test_body_too_large_is_413(tmp_path: Path) -> None:
    s = make_settings(tmp_path, max_body_bytes=2048)
    with TestClient(create_app(s, grader=Grader(FakeEmbedder()))) as c:
        iv = start(c, question_count=1, seed=1)
        r = answer(c, iv["id"], iv["question"]["id"], "word " * 1000)
        assert_problem(r, 413, "2048", "VIVA_MAX_BODY_BYTES")

        def chunks() -> Any:  # no Content-Length: the limit applies as the body streams in
            for _ in range(10):
                yield b" " * 1000

        r = c.post(
            f"/v1/interviews/{iv['id']}/answers",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert_problem(r, 413)
        state = c.get(f"/v1/interviews/{iv['id']}").json()
        assert state["responses"] == []


def test_llm_feedback_needs_an_llm(client: TestClient) -> None:
    r = client.post("/v1/interviews", json={"bank_id": "keras", "feedback": "llm"})
    assert_problem(r, 409, "VIVA_LLM_BASE_URL", "VIVA_LLM_MODEL")


class _Judge:
    model = "fake-llm"
    prompt = "feedback.v1"

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        return LLMReview.unavailable("fake judge: timed out", model=self.model, prompt=self.prompt)


def test_llm_feedback_uses_the_configured_judge(tmp_path: Path) -> None:
    s = make_settings(tmp_path, llm_model="m", VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1")
    app = create_app(s, grader=Grader(FakeEmbedder()), judge=_Judge())
    with TestClient(app) as c:
        iv = start(c, question_count=1, seed=1, feedback="llm")
        assert iv["feedback"] == "llm"
        g = answer(c, iv["id"], iv["question"]["id"], "Keras is an API").json()["grade"]
        assert g["feedback_status"] == "unavailable" and "timed out" in g["feedback_reason"]


@pytest.mark.slow
def test_real_model_grades_over_http(tmp_path: Path, real_embedder: Any) -> None:
    s = make_settings(tmp_path)
    with TestClient(create_app(s, grader=Grader(real_embedder))) as c:
        iv = start(c, question_ids=["keras-01"])
        good = (
            "Keras is a high-level API: you get ready-made layers, losses and optimizers and "
            "a fit() loop, so a model is a few lines. Raw PyTorch or TensorFlow make you write "
            "the training loop and gradients yourself."
        )
        g = answer(c, iv["id"], "keras-01", good).json()["grade"]
        assert g["provenance"]["model"] == real_embedder.name
        covered = {p["id"] for p in g["points"] if p["coverage"] >= 0.5}
        assert {"high-level", "low-level-contrast"} <= covered
