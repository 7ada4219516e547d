"""`viva grade --llm` with bad LLM settings stops before grading, naming the variable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viva.cli.main import app
from viva.settings import get_settings


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"question_id": "keras-05", "answer": "Dropout zeroes units."}))
    return path


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("VIVA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("VIVA_LLM_MODEL", "m")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        (
            "VIVA_LLM_PROVIDER",
            "nope",
            "error: VIVA_LLM_PROVIDER: unknown value 'nope' (have: openai)",
        ),
        ("VIVA_LLM_PROMPT", "nope", "error: VIVA_LLM_PROMPT: no prompt 'nope' in"),
    ],
)
def test_bad_llm_setting_is_refused_by_name(
    answers: Path, tmp_path: Path, llm_env: pytest.MonkeyPatch, var: str, value: str, message: str
) -> None:
    llm_env.setenv(var, value)
    get_settings.cache_clear()
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(app, ["grade", str(answers), "--llm", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message), result.output
    assert not out.exists()  # nothing graded, nothing written
