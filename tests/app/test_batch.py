"""Batch runs: LLM review of graded rows (`viva grade --llm`), through the same Reviewer as
the API, configured from the environment by the composition root."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.test_llm import ANSWER, good_reply
from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, reply
from viva.app.batch import GradedRow, review_rows
from viva.composition import Components
from viva.core.grader import Grader
from viva.domain.models import Bank
from viva.settings import Settings


def _settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"prompts_dir": REPO / "prompts", "llm_timeout": 2, "llm_retries": 0}
    base.update(kw)
    return Settings(**base)


def test_review_rows_for_batch_runs(
    fake_llm: FakeOpenAIServer, keras_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = keras_bank.question("keras-01")
    monkeypatch.setenv("VIVA_LLM_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("VIVA_LLM_MODEL", "batch-model")
    fake_llm.default = lambda _req: reply(good_reply(question))
    grade = Grader(FakeEmbedder()).grade(question, ANSWER)
    rows = [
        GradedRow(1, "r1", None, question.id, ANSWER, {}, grade=grade),
        GradedRow(2, "r2", None, None, None, {}, error="row 2: missing question_id"),
    ]
    review_rows(rows, keras_bank, Components(_settings()).reviewer)
    assert rows[0].grade is not None and rows[0].grade.feedback_status == "ok"
    assert rows[0].grade.provenance.llm_model == "batch-model"
    assert rows[1].grade is None  # a row error stays as it is
