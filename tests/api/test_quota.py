"""Per-owner storage quotas: interviews and answer bytes per key, a 403 problem that names the
limit and its setting, admins exempt, a link's answers counted against its interviewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings


def _create(c: TestClient, key: str, **body: Any) -> Any:
    return c.post("/v1/interviews", json={"bank_id": "keras", **body}, headers=bearer(key))


def _answer(c: TestClient, iv: dict[str, Any], key: str, text: str, **headers: str) -> Any:
    body = {"question_id": iv["question"]["id"], "answer": text}
    return c.post(
        f"/v1/interviews/{iv['id']}/answers", json=body, headers={**bearer(key), **headers}
    )


def test_interview_quota_per_owner_admin_exempt_and_delete_frees(
    tmp_path: Path, database_url: str
) -> None:
    keys = make_keys(database_url, ("admin", "root"), ("interviewer", "ian"), ("candidate", "cat"))
    s = make_settings(tmp_path, database_url, rate_limits=False, quota_interviews=2)
    with serve(s) as c:
        first = _create(c, keys["cat"], question_count=1).json()
        assert _create(c, keys["cat"], question_count=1).status_code == 201
        r = _create(c, keys["cat"], question_count=1)
        body = assert_problem(r, 403, "VIVA_QUOTA_INTERVIEWS", "2")
        assert body["title"] == "Quota exceeded"
        # Each owner has a budget of their own; admins have none.
        assert _create(c, keys["ian"], question_count=1).status_code == 201
        for _ in range(3):
            assert _create(c, keys["root"], question_count=1).status_code == 201
        # Deleting frees room.
        gone = c.delete(f"/v1/interviews/{first['id']}", headers=bearer(keys["cat"]))
        assert gone.status_code == 204
        assert _create(c, keys["cat"], question_count=1).status_code == 201


def test_answer_bytes_quota_counts_utf8_and_links_count_for_their_interviewer(
    tmp_path: Path, database_url: str
) -> None:
    keys = make_keys(database_url, ("admin", "root"), ("interviewer", "ian"))
    s = make_settings(tmp_path, database_url, rate_limits=False, quota_answer_bytes=1000)
    with serve(s) as c:
        a = _create(c, keys["ian"], question_count=3, candidate_link=True).json()
        link = a["candidate_link"]
        text = "é" * 300  # 600 bytes, 300 characters: bytes are what is counted
        r = _answer(c, a, link, text, **{"Idempotency-Key": "one"})
        assert r.status_code == 200, r.text
        nxt = {**a, "question": r.json()["next_question"]}
        r2 = _answer(c, nxt, link, text)
        assert_problem(r2, 403, "VIVA_QUOTA_ANSWER_BYTES", "600 bytes", "1000")
        # A retry of the stored answer is replayed, not refused.
        again = _answer(c, a, link, text, **{"Idempotency-Key": "one"})
        assert again.status_code == 200 and again.headers["idempotency-replayed"] == "true"
        # A shorter answer still fits; the interviewer's own new interviews share the budget.
        assert _answer(c, nxt, link, "x" * 400).status_code == 200
        b = _create(c, keys["ian"], question_count=1).json()
        assert_problem(_answer(c, b, keys["ian"], "y" * 10), 403, "VIVA_QUOTA_ANSWER_BYTES")
        # An interview an admin made for a candidate is exempt, even for the link holder.
        m = _create(c, keys["root"], question_count=1, candidate_link=True).json()
        for _ in range(2):
            assert _answer(c, m, m["candidate_link"], "z" * 900).status_code in (200, 409)


def test_quotas_off_in_open_local_mode_and_when_zero(tmp_path: Path, database_url: str) -> None:
    with serve(make_settings(tmp_path, database_url, quota_interviews=1)) as c:
        for _ in range(3):
            assert c.post("/v1/interviews", json={"bank_id": "keras"}).status_code == 201
    keys = make_keys(database_url, ("candidate", "cat"))
    s = make_settings(tmp_path, database_url, rate_limits=False, quota_interviews=0)
    with serve(s) as c:
        for _ in range(3):
            assert _create(c, keys["cat"], question_count=1).status_code == 201


def test_owner_usage_in_the_store(tmp_path: Path, database_url: str) -> None:
    from viva.store import Repository, open_database

    keys = make_keys(database_url, ("candidate", "cat"))
    with serve(make_settings(tmp_path, database_url, rate_limits=False)) as c:
        iv = _create(c, keys["cat"], question_count=2).json()
        assert _answer(c, iv, keys["cat"], "ß and more").status_code == 200
        c.post(f"/v1/interviews/{iv['id']}/skip", headers=bearer(keys["cat"]))
    repo = Repository(open_database(database_url))
    try:
        owner = "key:" + keys["cat"][5:17]
        assert repo.owner_usage(owner) == (1, len("ß and more".encode()))
        assert repo.owner_usage("key:nobody") == (0, 0)
    finally:
        repo.close()
