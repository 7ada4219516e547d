"""Shared fixtures. Tests are hermetic: temp dirs, no user files, no network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.embedder import FakeEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.pg"]  # PostgreSQL fixtures: postgres_server, postgres_url, database_url


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from viva.adapters.embedder import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def keras_bank():  # type: ignore[no-untyped-def]
    from viva.adapters.banks import load_bank_file

    return load_bank_file(REPO / "rubrics" / "keras.yaml")
