"""Helpers for the account tests: an app with keys on a temp database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.app.auth import Keys
from viva.core.grader import Grader
from viva.settings import Settings
from viva.store import open_database
from viva.store.keys import KeyStore


def make_keys(database_url: str, *specs: tuple[str, str]) -> dict[str, str]:
    """Create (role, name) keys in the database; returns name -> key."""
    db = open_database(database_url)
    try:
        keys = Keys(KeyStore(db))
        return {name: keys.create(role, name).key for role, name in specs}
    finally:
        db.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def serve(settings: Settings, **client: Any) -> Iterator[TestClient]:
    app = create_app(settings, grader=Grader(FakeEmbedder()))
    with TestClient(app, raise_server_exceptions=False, **client) as c:
        yield c
