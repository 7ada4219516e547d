"""The composition root: parts built from settings once, LLM settings checked at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.test_llm import ANSWER, good_reply
from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, reply, server_error
from viva.app.review import NOT_CONFIGURED
from viva.composition import Components, get_components
from viva.core.grader import Grader
from viva.domain.models import Bank
from viva.errors import ConfigError
from viva.settings import Settings


@pytest.fixture
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("VIVA_LLM_BASE_URL", "OPENAI_BASE_URL", "VIVA_LLM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)


def _settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"prompts_dir": REPO / "prompts", "llm_timeout": 2, "llm_retries": 0}
    base.update(kw)
    return Settings(**base)


def _llm(**kw: Any) -> Settings:
    return _settings(VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1", llm_model="m", **kw)


def test_one_set_of_parts_per_settings(no_llm_env: None) -> None:
    s = _settings()
    parts = get_components(s)
    assert get_components(_settings()) is parts
    assert parts.banks is parts.banks and parts.reviewer is parts.reviewer
    assert get_components(_settings(max_answer_chars=123)) is not parts


def test_not_configured_is_unavailable_and_disabled(no_llm_env: None, keras_bank: Bank) -> None:
    parts = Components(_settings())
    question = keras_bank.question("keras-01")
    grade = Grader(FakeEmbedder()).grade(question, ANSWER)
    assert parts.judge is None and parts.reviewer.health().status == "disabled"
    out = parts.reviewer.review(question, ANSWER, grade)
    assert out.feedback_status == "unavailable" and out.feedback_reason == NOT_CONFIGURED
    assert [g.feedback_status for g in parts.reviewer.review_many([(question, ANSWER, grade)])] == [
        "unavailable"
    ]


def test_settings_from_env_shared_judge_and_status(
    fake_llm: FakeOpenAIServer, keras_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("VIVA_LLM_MODEL", "env-model")
    parts = Components(_settings())
    question = keras_bank.question("keras-01")
    assert parts.judge is parts.judge and parts.reviewer.judge is parts.judge
    assert parts.reviewer.health().status == "ok"
    fake_llm.push(server_error(500))
    grade = Grader(FakeEmbedder()).grade(question, ANSWER)
    assert parts.reviewer.review(question, ANSWER, grade).feedback_status == "unavailable"
    health = parts.reviewer.health()
    assert health.status == "degraded" and "HTTP 500" in (health.last_error or "")
    fake_llm.push(reply(good_reply(question)))
    out = parts.reviewer.review(question, ANSWER, grade)
    assert out.feedback_status == "ok" and out.provenance.llm_model == "env-model"
    assert fake_llm.requests[-1]["model"] == "env-model"
    assert fake_llm.headers[-1]["authorization"] == "Bearer sk-test"
    assert parts.reviewer.health().status == "ok"


def test_injected_parts_replace_the_roots(no_llm_env: None) -> None:
    from tests.fakes.judge import FakeJudge

    grader, judge = Grader(FakeEmbedder()), FakeJudge()
    parts = Components(_settings(embedding_provider="no-such-backend"), grader=grader, judge=judge)
    parts.check()  # the injected grader needs no embedding provider
    assert parts.grader is grader and parts.reviewer.judge is judge and parts.reviewer.enabled


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            lambda: _llm(llm_provider="nope"),
            "VIVA_LLM_PROVIDER: unknown value 'nope' (have: openai)",
        ),
        (lambda: _settings(llm_provider="nope"), "VIVA_LLM_PROVIDER: unknown value 'nope'"),
        (lambda: _llm(llm_prompt="feedback.v9"), "VIVA_LLM_PROMPT: prompt feedback.v9: missing"),
        (lambda: _llm(llm_prompt="nope"), "VIVA_LLM_PROMPT: no prompt 'nope' in"),
        (
            lambda: _settings(embedding_provider="nope"),
            "VIVA_EMBEDDING_PROVIDER: unknown value 'nope' (have: sentence-transformers)",
        ),
        (
            lambda: _settings(embedding_backend="tpu"),
            "VIVA_EMBEDDING_BACKEND: unknown value 'tpu' (have: onnx, openvino, torch)",
        ),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(
    no_llm_env: None, settings: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Components(settings()).check()


def test_a_prompt_dir_without_templates_is_refused(tmp_path: Path, no_llm_env: None) -> None:
    with pytest.raises(ConfigError, match=r"^VIVA_LLM_PROMPT: .*have: none"):
        Components(_llm(prompts_dir=tmp_path)).check()


def test_built_models_live_in_the_data_directory_unless_a_cache_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIVA_MODEL_CACHE_DIR", raising=False)
    assert Settings(data_dir=tmp_path / "d").models_dir == tmp_path / "d" / "models"
    monkeypatch.setenv("VIVA_MODEL_CACHE_DIR", str(tmp_path / "shared"))
    assert Settings(data_dir=tmp_path / "d").models_dir == tmp_path / "shared"
    assert Settings().embedding_backend == "openvino"  # the measured default (README, Speed)
