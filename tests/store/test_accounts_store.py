"""Keys, owners, links, deletion and retention in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.store.test_repository import _question
from viva.app import retention
from viva.app.auth import Authenticator, Keys, link_hash, new_link_token
from viva.errors import AuthenticationError, InterviewNotFoundError
from viva.store import Repository, open_database
from viva.store.keys import KeyStore
from viva.store.repository import IV


@pytest.fixture
def repo(database_url: str) -> Repository:
    db = open_database(database_url)
    yield Repository(db)  # type: ignore[misc]
    db.dispose()


def _new(repo: Repository, id: str, **kw: object) -> None:
    repo.create_interview(
        id=id, bank_id="b", bank_version="1", candidate=str(kw.pop("candidate", "Ada")),
        feedback="none", seed=1, questions=(_question("q1"),), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_keys_round_trip_and_revocation_is_immediate(repo: Repository) -> None:
    store = KeyStore(repo.db)
    auth = Authenticator(store, repo.interview_by_link)
    assert not store.any() and not auth.enabled()
    made = Keys(store).create("interviewer", "Ian")
    assert store.any() and auth.enabled()
    p = auth.bearer(made.key)
    assert (p.role, p.subject, p.name) == ("interviewer", f"key:{made.record.id}", "Ian")
    assert auth.bearer(made.key) == p  # the cached path agrees
    Keys(store).revoke(made.record.id)
    with pytest.raises(AuthenticationError):
        auth.bearer(made.key)
    assert store.any()  # revoking the last key never re-opens the server


def test_owner_link_and_reveal_are_kept(repo: Repository) -> None:
    token, hashed = new_link_token()
    _new(repo, "iv-1", owner="key:abc", link_hash=hashed, reveal="never")
    iv = repo.get_interview("iv-1")
    assert (iv.owner, iv.has_link, iv.reveal) == ("key:abc", True, "never")
    assert repo.interview_by_link(link_hash(token)) == "iv-1"
    assert repo.interview_by_link(link_hash(token + "x")) is None
    with repo.db.read() as conn:
        stored = conn.execute(sa.select(IV.c.link_hash)).scalar_one()
    assert token not in stored


def test_delete_removes_responses_and_purge_keeps_recent(repo: Repository) -> None:
    for name in ("old", "new", "gone"):
        _new(repo, name)
        iv = repo.get_interview(name)
        repo.add_response(iv, question_id="q1", outcome="skipped", answer=None, grade=None,
                          idempotency_key=None, request_hash="h", response_body={})  # fmt: skip
    retention.delete(repo, "gone")
    with pytest.raises(InterviewNotFoundError):
        repo.get_interview("gone")
    assert repo.count_responses("gone") == 0
    with pytest.raises(InterviewNotFoundError):
        retention.delete(repo, "gone")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with repo.db.write() as conn:
        conn.execute(IV.update().where(IV.c.id == "old").values(created_at=long_ago))
    assert retention.purge(repo, 30) == 1
    assert repo.interview_ids() == ["new"] and repo.count_responses("old") == 0
    assert retention.purge(repo, 30) == 0


def test_export_finds_one_candidates_interviews(repo: Repository) -> None:
    _new(repo, "a", candidate="Zoe")
    _new(repo, "b", candidate="Max")
    data = retention.export_candidate(repo, "Zoe")
    assert [iv["id"] for iv in data["interviews"]] == ["a"]
    assert data["interviews"][0]["question_ids"] == ["q1"]
