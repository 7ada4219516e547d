"""Open local mode ends when the first key is created, without asking the database per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from viva.app.auth import NO_KEYS_TTL_S, Authenticator, Keys
from viva.errors import AuthenticationError
from viva.store import Repository, open_database
from viva.store.keys import KeyStore


class CountingKeys:
    """The key store, counting `any` (the "is any key there?" question)."""

    def __init__(self, inner: KeyStore) -> None:
        self.inner, self.asked = inner, 0

    def any(self) -> bool:
        self.asked += 1
        return self.inner.any()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def repo(database_url: str) -> Iterator[Repository]:
    r = Repository(open_database(database_url))
    yield r
    r.close()


@pytest.fixture
def store(repo: Repository) -> CountingKeys:
    return CountingKeys(KeyStore(repo.db))


def test_no_keys_is_asked_once_a_ttl_not_once_a_request(
    store: CountingKeys, repo: Repository
) -> None:
    clock = Clock()
    auth = Authenticator(store, repo.interview_by_link, clock=clock)  # type: ignore[arg-type]
    assert not any(auth.enabled() for _ in range(50))
    assert store.asked == 1
    clock.now += NO_KEYS_TTL_S
    assert not auth.enabled()
    assert store.asked == 2


def test_a_key_created_in_this_process_turns_auth_on_at_once(
    store: CountingKeys, repo: Repository
) -> None:
    auth = Authenticator(store, repo.interview_by_link, clock=Clock())  # type: ignore[arg-type]
    assert not auth.enabled()
    made = Keys(KeyStore(repo.db)).create("admin", "root")  # another store, same database
    assert auth.enabled()  # the clock has not moved: no waiting for the TTL
    assert auth.bearer(made.key).role == "admin"
    with pytest.raises(AuthenticationError):
        auth.bearer("viva_0123456789ab_" + "n" * 43)


def test_a_key_from_another_process_is_seen_within_the_ttl(
    store: CountingKeys, repo: Repository
) -> None:
    clock = Clock()
    auth = Authenticator(store, repo.interview_by_link, clock=clock)  # type: ignore[arg-type]
    assert not auth.enabled()
    # `viva keys create` in another process: the row appears, this process is not told.
    KeyStore(repo.db).add(id="0123456789ab", name="cli", role="admin", hash="x")
    clock.now += NO_KEYS_TTL_S
    assert auth.enabled()
    asked = store.asked
    clock.now += 10 * NO_KEYS_TTL_S
    assert auth.enabled() and store.asked == asked  # on for good: never asked again
