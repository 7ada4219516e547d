"""API fixtures: an app per test on a temp database (SQLite and PostgreSQL), fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.core.grader import Grader
from viva.settings import Settings

PROBLEM = "application/problem+json"


def make_settings(tmp_path: Path, database_url: str | None = None, **kw: Any) -> Settings:
    fields: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "rubrics_dir": REPO / "rubrics",
        "calibration_file": None,
        "llm_model": None,
        "VIVA_LLM_BASE_URL": None,  # by alias: OPENAI_BASE_URL in the environment must not leak in
    }
    return Settings(**(fields | kw))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, grader=Grader(FakeEmbedder()))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_problem(resp: Any, status: int, *needles: str) -> dict[str, Any]:
    """An RFC 9457 body with the given status whose detail mentions each needle."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body: dict[str, Any] = resp.json()
    assert body["status"] == status and body["title"] and body["type"]
    for n in needles:
        assert n in body["detail"], (n, body["detail"])
    return body
