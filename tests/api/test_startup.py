"""Start-up: invalid settings stop the API with the same "VIVA_NAME: why" the CLI prints,
before the database is touched or the model loads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.conftest import make_settings
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.cli.main import app as cli
from viva.core.grader import Grader
from viva.errors import ConfigError
from viva.settings import get_settings

UNKNOWN_PROVIDER = "VIVA_LLM_PROVIDER: unknown value 'nope' (have: openai)"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_unknown_llm_provider_stops_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = make_settings(
        tmp_path, llm_provider="nope", llm_model="m", VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1"
    )
    app = create_app(s, grader=Grader(FakeEmbedder()))
    with (
        caplog.at_level("ERROR", logger="viva.api"),
        pytest.raises(ConfigError, match=re.escape(UNKNOWN_PROVIDER)),
        TestClient(app),
    ):
        pass  # pragma: no cover - start-up fails
    assert f"error: {UNKNOWN_PROVIDER}" in caplog.messages
    assert not (tmp_path / "data" / "viva.db").exists()  # settings are checked first


def test_prompt_without_templates_stops_start_up(tmp_path: Path) -> None:
    s = make_settings(
        tmp_path, llm_prompt="feedback.v7", llm_model="m", VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1"
    )
    with (
        pytest.raises(ConfigError, match=r"^VIVA_LLM_PROMPT: prompt feedback.v7: missing"),
        TestClient(create_app(s, grader=Grader(FakeEmbedder()))),
    ):
        pass  # pragma: no cover - start-up fails


def test_api_and_cli_report_a_bad_setting_the_same_way(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("VIVA_PORT", "eighty")
    with pytest.raises(ConfigError) as api_error:
        create_app()
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {api_error.value}"
    assert str(api_error.value).startswith("VIVA_PORT: Input should be a valid integer")
