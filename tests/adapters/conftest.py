"""One fake OpenAI-compatible server per test module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture(scope="module")
def fake_llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeOpenAIServer) -> FakeOpenAIServer:
    fake_llm_server.reset()
    return fake_llm_server
