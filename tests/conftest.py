"""Shared fixtures. Tests are hermetic: temp dirs, no user files, no network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAIServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
# One cache of built models (the default backend builds int8 weights on first use) for every
# test's temporary data directory and the servers tests start: built once, not per test.
os.environ.setdefault("VIVA_MODEL_CACHE_DIR", str(REPO / ".viva" / "test-models"))

pytest_plugins = ["tests.pg"]  # PostgreSQL fixtures: postgres_server, postgres_url, database_url


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from viva.composition import shared_embedder
    from viva.settings import DEFAULT_MODEL, Settings

    return shared_embedder(Settings(embedding_model=DEFAULT_MODEL))


@pytest.fixture(scope="session")
def keras_bank():  # type: ignore[no-untyped-def]
    from viva.adapters.banks import load_bank_file

    return load_bank_file(REPO / "rubrics" / "keras.yaml")


@pytest.fixture(scope="module")
def fake_llm_server() -> Iterator[FakeOpenAIServer]:
    """One fake OpenAI-compatible server per test module."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The module's fake server, reset before each test."""
    fake_llm_server.reset()
    return fake_llm_server
