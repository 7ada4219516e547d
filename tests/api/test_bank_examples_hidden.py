"""Graded examples are answer keys: no API response about a bank or interview may carry them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from viva.domain.models import Bank


def test_examples_never_leave_the_server(client: TestClient, keras_bank: Bank) -> None:
    answers = [e.answer for q in keras_bank.questions for e in q.examples]
    assert answers
    qids = [q.id for q in keras_bank.questions]
    created = client.post("/v1/interviews", json={"bank_id": "keras", "question_ids": qids})
    assert created.status_code == 201, created.text
    iv = created.json()["id"]
    for q in keras_bank.questions:  # skip through every question so all of them are listed
        r = client.post(f"/v1/interviews/{iv}/skip", json={"question_id": q.id})
        assert r.status_code == 200, r.text
    interview = client.get(f"/v1/interviews/{iv}")
    assert [q["id"] for q in interview.json()["questions"]] == qids
    for body in [client.get("/v1/banks").text, client.get("/v1/banks/keras").text, interview.text]:
        assert '"examples"' not in body
        assert not [a for a in answers if a[:60] in body]
    openapi = client.get("/openapi.json").text  # its own "examples" are request samples
    assert not [a for a in answers if a[:60] in openapi]
