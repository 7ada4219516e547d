"""`viva grade --llm` against the fake OpenAI-compatible server: feedback when it answers, the
embedding grade with `unavailable` when it is down, a clear refusal when none is configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.fakes.openai_server import FakeOpenAIServer, refused_url, reply
from viva.cli.main import app
from viva.settings import get_settings

pytestmark = pytest.mark.slow
runner = CliRunner()

ROWS = [
    {"id": "r1", "question_id": "keras-05",
     "answer": "Dropout randomly zeroes activations during training to reduce overfitting."},
    {"id": "r2", "question_id": "keras-09",
     "answer": "EarlyStopping stops fit when val_loss stops improving for `patience` epochs."},
]  # fmt: skip


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("VIVA_PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("VIVA_LLM_MODEL", "fake-model")
    monkeypatch.setenv("VIVA_LLM_TIMEOUT", "3")
    monkeypatch.setenv("VIVA_LLM_RETRIES", "0")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def run(answers: Path, out: Path) -> list[dict[str, object]]:
    result = runner.invoke(app, ["grade", str(answers), "--llm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_feedback_from_the_llm(answers: Path, tmp_path: Path, llm_env: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as server:
        server.default = lambda _req: reply(
            {"points": [], "misconceptions": [],
             "feedback": {"good": ["Clear."], "add": ["Mention inference."], "tip": "Be concrete."}}
        )  # fmt: skip
        llm_env.setenv("VIVA_LLM_BASE_URL", server.base_url)
        get_settings.cache_clear()
        rows = run(answers, tmp_path / "o.jsonl")
        assert len(server.requests) == len(ROWS)
        assert {r["model"] for r in server.requests} == {"fake-model"}
    for row in rows:
        assert row["feedback_status"] == "ok"
        assert row["feedback"] == {
            "good": ["Clear."],
            "add": ["Mention inference."],
            "tip": "Be concrete.",
        }
        assert row["prompt"] == "feedback.v1" and row["llm_model"] == "fake-model"
        assert isinstance(row["score"], float)


def test_llm_down_still_grades(answers: Path, tmp_path: Path, llm_env: pytest.MonkeyPatch) -> None:
    llm_env.setenv("VIVA_LLM_BASE_URL", refused_url())
    get_settings.cache_clear()
    rows = run(answers, tmp_path / "o.jsonl")
    for row in rows:
        assert row["feedback_status"] == "unavailable"
        assert row["feedback_reason"]
        assert row["feedback"] is None
        assert isinstance(row["score"], float) and row["score"] > 0


def test_llm_flag_without_an_llm_is_refused(answers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("VIVA_LLM_BASE_URL", "OPENAI_BASE_URL", "VIVA_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["grade", str(answers), "--llm"])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "VIVA_LLM_BASE_URL" in result.output
