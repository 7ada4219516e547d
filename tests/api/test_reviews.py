"""Human review over the API: an interviewer overrides a grade, the report shows both scores,
the audit trail keeps both, and the reviewed answer anchors the next grade of that answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from viva.domain.models import Bank
from viva.store import open_database
from viva.store.reviews import ReviewStore

ROLES = (("admin", "root"), ("interviewer", "ian"), ("interviewer", "ivy"), ("candidate", "cat"))
Q1, Q2 = "keras-01", "keras-02"


@pytest.fixture
def keys(database_url: str) -> dict[str, str]:
    return make_keys(database_url, *ROLES)


@pytest.fixture
def client(tmp_path: Path, database_url: str, keys: dict[str, str]) -> Any:
    with serve(make_settings(tmp_path, database_url, rate_limits=False)) as c:
        yield c


def partial(bank: Bank) -> str:
    """Two of keras-01's points: Viva gives it part marks."""
    return " ".join(p.text for p in bank.question(Q1).points[:2])


def _interview(client: TestClient, key: str, bank: Bank) -> str:
    """keras-01 answered in part, keras-02 skipped."""
    h = bearer(key)
    body = {"bank_id": "keras", "question_ids": [Q1, Q2]}
    r = client.post("/v1/interviews", json=body, headers=h)
    assert r.status_code == 201, r.text
    iv = r.json()["id"]
    answer = {"question_id": Q1, "answer": partial(bank)}
    r = client.post(f"/v1/interviews/{iv}/answers", json=answer, headers=h)
    assert r.status_code == 200, r.text
    assert client.post(f"/v1/interviews/{iv}/skip", json={}, headers=h).status_code == 200
    return str(iv)


def _review(client: TestClient, key: str, iv: str, qid: str, **body: Any) -> Any:
    return client.put(f"/v1/interviews/{iv}/answers/{qid}/review", json=body, headers=bearer(key))


def test_interviewer_overrides_and_the_report_shows_both_scores(
    client: TestClient, keys: dict[str, str], keras_bank: Bank, database_url: str
) -> None:
    iv = _interview(client, keys["ian"], keras_bank)
    viva = client.get(f"/v1/interviews/{iv}/report", headers=bearer(keys["ian"])).json()
    viva_score = viva["questions"][0]["grade"]["score"]
    assert 0.3 < viva_score < 0.9 and viva["questions"][0]["review"] is None

    r = _review(client, keys["ian"], iv, Q1, score=0.95, note="says it all, briefly")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["score"] == 0.95 and out["viva_score"] == viva_score and out["reviewer"] == "ian"

    report = client.get(f"/v1/interviews/{iv}/report", headers=bearer(keys["ian"])).json()
    q = report["questions"][0]
    assert q["grade"]["score"] == viva_score  # Viva's score stays in the grade
    assert q["review"]["score"] == 0.95 and q["review"]["note"] == "says it all, briefly"
    assert report["overall"] == pytest.approx(0.95 / 2, abs=1e-4)  # the person's score counts
    # The readable reports show both scores too, and the reviewer's note.
    for fmt in ("md", "html"):
        text = client.get(
            f"/v1/interviews/{iv}/report?format={fmt}", headers=bearer(keys["ian"])
        ).text
        assert "95%" in text and "says it all, briefly" in text, fmt
        assert f"Viva: {round(viva_score * 100)}%" in text, fmt

    # An admin reviews again: the report shows the newest, the trail keeps both.
    assert _review(client, keys["root"], iv, Q1, score=0.7).status_code == 200
    report = client.get(f"/v1/interviews/{iv}/report", headers=bearer(keys["ian"])).json()
    assert report["questions"][0]["review"]["score"] == 0.7
    db = open_database(database_url)
    trail = ReviewStore(db).for_interview(iv)
    db.dispose()
    assert [(t.reviewer, t.score, t.viva_score) for t in trail] == [
        ("ian", 0.95, viva_score),
        ("root", 0.7, viva_score),
    ]
    assert all(t.created_at.tzinfo is not None for t in trail)


def test_who_may_review(client: TestClient, keys: dict[str, str], keras_bank: Bank) -> None:
    iv = _interview(client, keys["ian"], keras_bank)
    assert_problem(_review(client, keys["ivy"], iv, Q1, score=0.5), 404)  # not hers: unseen
    own = _interview(client, keys["cat"], keras_bank)  # a candidate's own practice interview
    assert_problem(_review(client, keys["cat"], own, Q1, score=1.0), 403, "interviewers")
    assert_problem(_review(client, keys["cat"], iv, Q1, score=1.0), 404)
    assert_problem(client.put(f"/v1/interviews/{iv}/answers/{Q1}/review", json={"score": 1}), 401)
    assert _review(client, keys["root"], iv, Q1, score=0.5).status_code == 200


def test_bad_reviews_are_refused(
    client: TestClient, keys: dict[str, str], keras_bank: Bank
) -> None:
    iv = _interview(client, keys["ian"], keras_bank)
    assert_problem(_review(client, keys["ian"], iv, Q1, score=1.5), 422)
    assert_problem(_review(client, keys["ian"], iv, Q1, score=0.5, extra=1), 422)
    assert_problem(_review(client, keys["ian"], iv, Q2, score=0.5), 409, "skipped")
    assert_problem(_review(client, keys["ian"], iv, "keras-09", score=0.5), 404)


def test_a_reviewed_answer_anchors_the_next_grade(
    client: TestClient, keys: dict[str, str], keras_bank: Bank
) -> None:
    iv = _interview(client, keys["ian"], keras_bank)
    before = client.get(f"/v1/interviews/{iv}/report", headers=bearer(keys["ian"])).json()
    viva_score = before["questions"][0]["grade"]["score"]
    r = _review(client, keys["ian"], iv, Q1, score=0.2, note="recited, not explained")
    assert r.status_code == 200, r.text
    assert viva_score > 0.4

    again = _interview(client, keys["ivy"], keras_bank)  # the same answer, someone else
    grade = client.get(f"/v1/interviews/{again}/report", headers=bearer(keys["ivy"])).json()[
        "questions"
    ][0]["grade"]
    assert grade["score"] == pytest.approx(0.2, abs=0.05)  # was viva_score: the person's now
    nearest = grade["anchoring"]["nearest"]
    assert nearest["score"] == 0.2 and nearest["note"] == "recited, not explained"
    assert grade["anchoring"]["examples"] == len(keras_bank.question(Q1).examples) + 1
