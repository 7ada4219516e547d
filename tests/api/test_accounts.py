"""Accounts: API keys, roles, owners, candidate links, proxy identities, rate limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from tests.api.test_interviews import good_answer
from viva.domain.models import Bank

ROLES = (("admin", "root"), ("interviewer", "ian"), ("interviewer", "ivy"),
         ("candidate", "cat"), ("candidate", "cid"))  # fmt: skip


@pytest.fixture
def keys(database_url: str) -> dict[str, str]:
    return make_keys(database_url, *ROLES)


@pytest.fixture
def client(tmp_path: Path, database_url: str, keys: dict[str, str]) -> Any:
    with serve(make_settings(tmp_path, database_url, rate_limits=False)) as c:
        yield c


def _create(client: TestClient, key: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/interviews", json={"bank_id": "keras", **body}, headers=bearer(key))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_no_key_unknown_key_and_revoked_key_are_401(
    client: TestClient, keys: dict[str, str], database_url: str
) -> None:
    assert client.get("/healthz").status_code == 200  # probes need no key
    r = client.get("/v1/banks")
    assert_problem(r, 401, "Authorization: Bearer")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get("/v1/banks", headers=bearer("viva_0123456789ab_nope")), 401)
    assert_problem(client.get("/v1/banks", headers={"Authorization": f"Basic {keys['cat']}"}), 401)
    # A real key's id with a wrong secret: the hash decides, not the id.
    forged = keys["cat"][:18] + "x" * 43
    assert_problem(client.get("/v1/banks", headers=bearer(forged)), 401)
    assert client.get("/v1/banks", headers=bearer(keys["cat"])).status_code == 200

    from viva.app.auth import Keys
    from viva.store import open_database
    from viva.store.keys import KeyStore

    db = open_database(database_url)
    key_id = keys["cat"][5:17]
    assert Keys(KeyStore(db)).revoke(key_id).revoked_at is not None
    db.dispose()
    assert_problem(client.get("/v1/banks", headers=bearer(keys["cat"])), 401, "revoked")


def test_keys_are_stored_hashed(database_url: str, keys: dict[str, str]) -> None:
    from viva.store import open_database
    from viva.store.keys import KeyStore

    db = open_database(database_url)
    stored = KeyStore(db).all()
    db.dispose()
    assert {k.role for k in stored} == {"admin", "interviewer", "candidate"}
    for k in stored:
        assert k.hash.startswith("$argon2id$")
        assert all(secret not in k.hash for secret in keys.values())


def _matrix_expectations() -> dict[tuple[str, str, str], int | str]:
    """(endpoint, caller, target) -> "ok" or the status a refused caller gets."""
    callers = ["root", "ian", "ivy", "cat", "cid", "link", "anon"]
    exp: dict[tuple[str, str, str], int | str] = {}
    for ep in ("get", "report", "answer", "skip", "delete"):
        for who in callers:
            # Target "practice": the candidate cat's own interview, no link.
            ok = who in ("root", "cat")
            exp[(ep, who, "practice")] = "ok" if ok else 404
            # Target "assigned": made by interviewer ian for a candidate, with a link.
            sees = who in ("root", "ian", "link")
            if not sees:
                exp[(ep, who, "assigned")] = 404
            elif ep in ("answer", "skip"):
                exp[(ep, who, "assigned")] = "ok" if who == "link" else 403
            elif ep == "delete":
                exp[(ep, who, "assigned")] = 403 if who == "link" else "ok"
            else:
                exp[(ep, who, "assigned")] = "ok"
    staff = {"root", "ian", "ivy"}
    for who in callers:
        exp[("banks", who, "-")] = "ok"
        exp[("bank", who, "-")] = "ok"
        exp[("create", who, "-")] = 403 if who == "link" else "ok"
        exp[("create_link", who, "-")] = "ok" if who in staff else 403
        exp[("grade_bank", who, "-")] = "ok" if who in staff else 403
        exp[("grade_adhoc", who, "-")] = "ok" if who in staff else 403
        exp[("export", who, "-")] = "ok" if who == "root" else 403
    for key in [k for k in exp if k[1] == "anon"]:
        exp[key] = 401
    return exp


def test_role_matrix_every_endpoint_role_and_owner(
    client: TestClient, keys: dict[str, str], keras_bank: Bank
) -> None:
    """Every endpoint x role x own/other interview: allowed, 403, or 404 without any data."""
    for (ep, who, target), want in _matrix_expectations().items():
        practice = _create(client, keys["cat"], question_count=2, candidate="Cat Secret")
        assigned = _create(
            client, keys["ian"], question_count=2, candidate="Ann Secret", candidate_link=True
        )
        link = str(assigned["candidate_link"])
        assert link.startswith("vlink_") and assigned["id"] not in link
        creds = {**keys, "link": link}
        headers = bearer(creds[who]) if who in creds else {}
        iv = {"practice": practice, "assigned": assigned}.get(target)
        r = _call(client, ep, iv, headers)
        label = f"{ep} by {who} on {target}: {r.status_code} {r.text[:200]}"
        if want == "ok":
            assert r.status_code in (200, 201, 204, 409), label
        else:
            assert r.status_code == want, label
            assert "Secret" not in r.text, label


def _call(client: TestClient, ep: str, iv: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    if iv is not None:
        base = f"/v1/interviews/{iv['id']}"
        qid = iv["question"]["id"]
        if ep == "get":
            return client.get(base, headers=headers)
        if ep == "report":
            return client.get(f"{base}/report", headers=headers)
        if ep == "answer":
            body = {"question_id": qid, "answer": "an answer of some words"}
            return client.post(f"{base}/answers", json=body, headers=headers)
        if ep == "skip":
            return client.post(f"{base}/skip", headers=headers)
        return client.delete(base, headers=headers)
    if ep == "banks":
        return client.get("/v1/banks", headers=headers)
    if ep == "bank":
        return client.get("/v1/banks/keras", headers=headers)
    if ep in ("create", "create_link"):
        body = {"bank_id": "keras", "question_count": 1, "candidate_link": ep == "create_link"}
        return client.post("/v1/interviews", json=body, headers=headers)
    if ep == "grade_bank":
        body = {"bank_id": "keras", "question_id": "keras-01", "answer": "some words"}
        return client.post("/v1/grade", json=body, headers=headers)
    if ep == "grade_adhoc":
        q = {"prompt": "Why shuffle?", "reference_answer": "It decorrelates batches."}
        return client.post("/v1/grade", json={"question": q, "answer": "x y"}, headers=headers)
    return client.get("/v1/candidates/Zed/export", headers=headers)


def test_candidate_link_is_the_only_credential_that_answers(
    client: TestClient, keys: dict[str, str], keras_bank: Bank
) -> None:
    iv = _create(client, keys["ian"], question_count=1, candidate="Ann", candidate_link=True)
    link = bearer(iv["candidate_link"])
    again = client.get(f"/v1/interviews/{iv['id']}", headers=bearer(keys["ian"])).json()
    assert again["candidate_link"] is None  # shown once, never again
    qid = iv["question"]["id"]
    body = {"question_id": qid, "answer": good_answer(keras_bank, qid)}
    r = client.post(f"/v1/interviews/{iv['id']}/answers", json=body, headers=link)
    assert r.status_code == 200, r.text
    # The interviewer reads the report, with the reference answers.
    rep = client.get(f"/v1/interviews/{iv['id']}/report", headers=bearer(keys["ian"])).json()
    assert rep["questions"][0]["reference_answer"] == keras_bank.question(qid).reference_answer
    # The link opens nothing else.
    other = _create(client, keys["ian"], question_count=1)
    assert_problem(client.get(f"/v1/interviews/{other['id']}", headers=link), 404)
    assert_problem(client.get("/v1/interviews/nope", headers=bearer("vlink_guess")), 401)


def test_delete_then_gone_and_export_has_everything(
    client: TestClient, keys: dict[str, str]
) -> None:
    a = _create(client, keys["cat"], question_count=1, candidate="Zoe")
    b = _create(client, keys["ian"], question_count=1, candidate="Zoe")
    _create(client, keys["ian"], question_count=1, candidate="Max")
    client.post(f"/v1/interviews/{a['id']}/skip", headers=bearer(keys["cat"]))
    r = client.get("/v1/candidates/Zoe/export", headers=bearer(keys["root"]))
    assert r.status_code == 200
    data = r.json()
    assert data["candidate"] == "Zoe"
    assert {x["id"] for x in data["interviews"]} == {a["id"], b["id"]}
    [got] = [x for x in data["interviews"] if x["id"] == a["id"]]
    assert got["responses"][0]["status"] == "skipped"

    gone = client.delete(f"/v1/interviews/{a['id']}", headers=bearer(keys["cat"]))
    assert gone.status_code == 204
    assert_problem(client.get(f"/v1/interviews/{a['id']}", headers=bearer(keys["root"])), 404)
    r = client.get("/v1/candidates/Zoe/export", headers=bearer(keys["root"]))
    assert [x["id"] for x in r.json()["interviews"]] == [b["id"]]


def test_proxy_identity_only_from_a_trusted_address(tmp_path: Path, database_url: str) -> None:
    s = make_settings(
        tmp_path,
        database_url,
        trusted_proxies="10.0.0.0/24",
        proxy_interviewers="ian@example.org",
    )
    who = {"X-Forwarded-User": "ian", "X-Forwarded-Email": "ian@example.org"}
    with serve(s, client=("10.0.0.5", 4000)) as proxied:
        body = {"bank_id": "keras", "candidate_link": True}
        r = proxied.post("/v1/interviews", json=body, headers=who)
        assert r.status_code == 201, r.text  # an interviewer, by the proxy's word
        iv = r.json()["id"]
        as_cat = {"X-Forwarded-User": "cat"}
        assert_problem(proxied.get(f"/v1/interviews/{iv}", headers=as_cat), 404)
        assert proxied.get(f"/v1/interviews/{iv}", headers=who).status_code == 200
    # The same headers from anywhere else are ignored: spoofing gets nothing.
    with serve(s, client=("203.0.113.9", 4000)) as direct:
        assert_problem(direct.get(f"/v1/interviews/{iv}", headers=who), 401)
        assert_problem(direct.get("/v1/banks", headers=who), 401)
        spoof_xff = {**who, "X-Forwarded-For": "10.0.0.5"}
        assert_problem(direct.get("/v1/banks", headers=spoof_xff), 401)


def test_rate_limits_per_key_and_per_address(tmp_path: Path, database_url: str) -> None:
    keys = make_keys(database_url, ("candidate", "cat"), ("candidate", "cid"))
    s = make_settings(
        tmp_path, database_url, rate_limit_candidate="3/minute", rate_limit_ip="5/minute"
    )
    with serve(s) as c:
        for _ in range(3):
            assert c.get("/v1/banks", headers=bearer(keys["cat"])).status_code == 200
        r = c.get("/v1/banks", headers=bearer(keys["cat"]))
        assert_problem(r, 429, "rate limit")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # Another key has its own budget, until the address runs out (5 a minute).
        assert c.get("/v1/banks", headers=bearer(keys["cid"])).status_code == 200
        r = c.get("/v1/banks", headers=bearer(keys["cid"]))
        assert_problem(r, 429, "address")
        assert c.get("/healthz").status_code == 200  # probes are never limited


class _CountingKeys:
    """The key store, counting every lookup: a flood of refused requests must not reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.lookups = inner, 0

    def get(self, key_id: str) -> Any:
        self.lookups += 1
        return self.inner.get(key_id)

    def any(self) -> bool:
        self.lookups += 1
        return bool(self.inner.any())


def test_a_flood_over_the_limit_never_reaches_the_key_store(
    tmp_path: Path, database_url: str
) -> None:
    keys = make_keys(database_url, ("candidate", "cat"))
    s = make_settings(
        tmp_path, database_url, rate_limit_candidate="3/minute", rate_limit_ip="40/minute"
    )
    with serve(s) as c:
        auth = c.app.state.gate.auth  # type: ignore[attr-defined]
        spy = auth.keys = _CountingKeys(auth.keys)
        for _ in range(3):
            assert c.get("/v1/banks", headers=bearer(keys["cat"])).status_code == 200
        assert spy.lookups == 2  # any key at all? once; this key, once: then known for seconds
        for i in range(30):
            r = c.get("/v1/banks", headers={**bearer(keys["cat"]), "X-Request-ID": f"f-{i}"})
            body = assert_problem(r, 429, "rate limit", "key")
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert body["instance"] == "/v1/banks" and body["request_id"] == f"f-{i}"
            assert r.headers["x-request-id"] == f"f-{i}"
        assert spy.lookups == 2
        # Unknown tokens are charged to the address; once it is spent, they never reach it.
        for _ in range(20):
            c.get("/v1/banks", headers=bearer("viva_0123456789ab_" + "n" * 43))
        before = spy.lookups
        for _ in range(20):
            r = c.get("/v1/banks", headers=bearer("viva_0123456789ab_" + "n" * 43))
            assert_problem(r, 429, "address")
        assert spy.lookups == before


def test_open_local_mode_has_no_limits_and_no_keys(tmp_path: Path) -> None:
    s = make_settings(tmp_path, None, rate_limit_ip="2/minute")
    with serve(s) as c:
        for _ in range(5):
            assert c.get("/v1/banks").status_code == 200


def test_admin_key_file_turns_auth_on(tmp_path: Path) -> None:
    secret = tmp_path / "admin.key"
    secret.write_text("a-long-enough-admin-key-from-a-secret\n")
    s = make_settings(tmp_path, None, admin_key_file=secret)
    with serve(s) as c:
        assert_problem(c.get("/v1/banks"), 401)
        headers = bearer("a-long-enough-admin-key-from-a-secret")
        assert c.get("/v1/banks", headers=headers).status_code == 200
        body = {"bank_id": "keras", "question_id": "keras-01", "answer": "x"}
        r = c.post("/v1/grade", json=body, headers=headers)
        assert r.status_code == 200


def test_retention_purges_old_interviews_on_start_up(tmp_path: Path, database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from viva.store import Repository, open_database
    from viva.store.repository import IV

    with serve(make_settings(tmp_path, database_url)) as c:
        old = c.post("/v1/interviews", json={"bank_id": "keras"}).json()["id"]
        new = c.post("/v1/interviews", json={"bank_id": "keras"}).json()["id"]
    db = open_database(database_url)
    with db.write() as conn:
        when = datetime.now(UTC) - timedelta(days=8)
        conn.execute(IV.update().where(IV.c.id == old).values(created_at=when))
    db.dispose()
    with serve(make_settings(tmp_path, database_url, retention_days=7)) as c:
        assert_problem(c.get(f"/v1/interviews/{old}"), 404)
        assert c.get(f"/v1/interviews/{new}").status_code == 200
    db = open_database(database_url)
    assert Repository(db).interview_ids() == [new]
    db.dispose()


def test_admin_key_file_must_be_long_unless_empty_and_insecure(tmp_path: Path) -> None:
    from viva.composition import read_admin_key
    from viva.errors import ConfigError

    secret = tmp_path / "admin.key"
    secret.write_text("short")
    with pytest.raises(ConfigError, match="VIVA_ADMIN_KEY_FILE"):
        read_admin_key(make_settings(tmp_path, None, admin_key_file=secret))
    secret.write_text("")
    with pytest.raises(ConfigError, match="shorter"):
        read_admin_key(make_settings(tmp_path, None, admin_key_file=secret))
    assert (
        read_admin_key(make_settings(tmp_path, None, admin_key_file=secret, insecure=True)) is None
    )
    with pytest.raises(ConfigError, match="cannot read"):
        read_admin_key(make_settings(tmp_path, None, admin_key_file=tmp_path / "missing"))
