"""Banks (no answers leak), stateless grading, health, the OpenAPI document, and no 500s."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem
from viva.core.reference import points_from_reference
from viva.domain.models import Bank
from viva.store.db import Database


def test_banks_show_prompts_but_no_rubric(client: TestClient, keras_bank: Bank) -> None:
    banks = client.get("/v1/banks").json()["banks"]
    listed = {b["id"]: b for b in banks}
    assert {"keras", "ml-fundamentals", "python"} <= set(listed)
    assert listed["keras"]["question_count"] == len(keras_bank.questions)
    bank = client.get("/v1/banks/keras").json()
    assert bank["version"] == keras_bank.version
    assert set(bank["questions"][0]) == {"id", "prompt", "topic", "difficulty"}
    text = json.dumps(bank)
    assert keras_bank.questions[0].points[0].text not in text
    assert keras_bank.questions[0].reference_answer[:40] not in text
    assert_problem(client.get("/v1/banks/nope"), 404, "nope", "known: keras")


def test_grade_bank_question(client: TestClient, keras_bank: Bank) -> None:
    q = keras_bank.question("keras-01")
    r = client.post(
        "/v1/grade",
        json={"bank_id": "keras", "question_id": "keras-01", "answer": q.points[0].text},
    )
    assert r.status_code == 200, r.text
    g = r.json()
    assert g["provenance"]["bank_version"] == keras_bank.version
    assert next(p for p in g["points"] if p["id"] == q.points[0].id)["coverage"] > 0.9


def test_grade_adhoc_question(client: TestClient) -> None:
    ref = "Shuffling stops the model learning the data order. It decorrelates mini-batches."
    r = client.post(
        "/v1/grade",
        json={
            "question": {"prompt": "Why shuffle data?", "reference_answer": ref},
            "answer": "It decorrelates mini-batches.",
        },
    )
    assert r.status_code == 200, r.text
    g = r.json()
    derived = [p.id for p in points_from_reference(ref)]
    assert [p["id"] for p in g["points"]] == derived and g["provenance"]["bank_id"] == "adhoc"
    assert 0 < g["score"] < 1

    r = client.post(
        "/v1/grade",
        json={
            "question": {
                "prompt": "Why shuffle data?",
                "points": [
                    {"text": "decorrelates mini-batches", "weight": 2},
                    {"id": "order", "text": "stops learning the data order"},
                ],
            },
            "answer": "It decorrelates mini-batches.",
        },
    )
    g = r.json()
    assert [p["id"] for p in g["points"]] == ["p1", "order"]
    assert g["points"][0]["coverage"] > 0.9 and g["points"][1]["coverage"] < 0.5


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"answer": "x"}, 422, "bank_id"),
        ({"bank_id": "keras", "answer": "x"}, 422, "question_id"),
        ({"bank_id": "nope", "question_id": "q", "answer": "x"}, 404, "nope"),
        ({"bank_id": "keras", "question_id": "nope", "answer": "x"}, 404, "nope"),
        ({"question": {"prompt": "Why?"}, "answer": "x"}, 422, ""),
        ({"question": {"prompt": "Why is it?"}, "answer": "x"}, 422, "reference_answer"),
        ({"question": {"prompt": "Why is it?", "reference_answer": "  "}, "answer": "x"}, 422, ""),
        (
            {
                "question": {"prompt": "Why is it?", "points": [{"id": "a b", "text": "abc"}]},
                "answer": "x",
            },
            422,
            "invalid question",
        ),
        (
            {
                "bank_id": "keras",
                "question_id": "keras-01",
                "answer": "x",
                "question": {"prompt": "Why is it?", "reference_answer": "Because."},
            },
            422,
            "not both",
        ),
        ({"bank_id": "keras", "question_id": "keras-01"}, 422, "answer"),
    ],
)
def test_grade_errors(client: TestClient, body: dict[str, Any], status: int, needle: str) -> None:
    assert_problem(client.post("/v1/grade", json=body), status, needle)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model"] == "fake-bag-of-words"


def test_readyz_is_503_when_the_database_is_down(client: TestClient) -> None:
    interviews: Any = client.app.state.interviews  # type: ignore[attr-defined]
    good = interviews.repo.db
    interviews.repo.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=1")
    try:
        assert_problem(client.get("/readyz"), 503, "database")
    finally:
        interviews.repo.db = good
    assert client.get("/readyz").status_code == 200


def test_openapi_documents_the_api_with_examples(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for p in [
        "/v1/banks",
        "/v1/banks/{bank_id}",
        "/v1/interviews",
        "/v1/interviews/{interview_id}",
        "/v1/interviews/{interview_id}/answers",
        "/v1/interviews/{interview_id}/skip",
        "/v1/interviews/{interview_id}/report",
        "/v1/grade",
        "/healthz",
        "/readyz",
    ]:
        assert p in paths, p
    schemas = doc["components"]["schemas"]
    assert schemas["CreateInterview"]["examples"] and schemas["SubmitAnswer"]["examples"]
    answers = paths["/v1/interviews/{interview_id}/answers"]["post"]
    assert {"404", "409", "413", "422"} <= set(answers["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in answers["parameters"])


NASTY: list[tuple[str, str, Any]] = [
    ("POST", "/v1/interviews", b"\xff\xfe\x00"),
    ("POST", "/v1/interviews", b"null"),
    ("POST", "/v1/interviews", b'{"bank_id": 5}'),
    ("POST", "/v1/interviews", b'{"bank_id": "keras", "seed": -1}'),
    ("POST", "/v1/interviews", b'{"bank_id": "keras", "seed": 1e999}'),
    ("POST", "/v1/interviews", b'{"bank_id": "keras", "question_ids": []}'),
    ("POST", "/v1/interviews", b'{"bank_id": "keras", "question_ids": ["keras-01","keras-01"]}'),
    ("POST", "/v1/interviews", b'{"bank_id": "' + b"a" * 5000 + b'"}'),
    ("POST", "/v1/interviews/x/answers", b'{"question_id": null, "answer": "x"}'),
    ("POST", "/v1/interviews/x/skip", b"[]"),
    ("POST", "/v1/grade", b'{"answer": ["a"]}'),
    ("POST", "/v1/grade", b'{"question": {"prompt": "Why is it?", "points": []}, "answer": ""}'),
    ("GET", "/v1/interviews/%00", None),
    ("GET", "/v1/banks/..%2f..%2fetc", None),
    ("PUT", "/v1/grade", b"{}"),
    ("POST", "/v1/interviews", b'{"bank_id": "keras", "candidate": "A\\u0000B"}'),
    ("POST", "/v1/grade", b'{"bank_id": "keras", "question_id": "keras-01", "answer": "\\u0000"}'),
    ("POST", "/v1/interviews/x/answers", b'{"question_id": "keras-01", "answer": "a\\u0000"}'),
]


@pytest.mark.parametrize(("method", "path", "body"), NASTY)
def test_no_client_mistake_is_a_500(client: TestClient, method: str, path: str, body: Any) -> None:
    r = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
