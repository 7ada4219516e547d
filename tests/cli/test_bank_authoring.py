"""`viva bank new`, `viva bank draft` (with and without an LLM) and the authoring warnings of
`viva rubric check`. The LLM path talks to the fake OpenAI-compatible server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.fakes.openai_server import FakeOpenAIServer, reply
from viva.adapters.banks import load_bank_file
from viva.cli.main import app
from viva.settings import get_settings

runner = CliRunner()

QUESTIONS = (
    "id,prompt,reference_answer,topic\n"
    'dropout,What does dropout do?,"Dropout randomly zeroes activations while training. '
    'This keeps units from co-adapting, so the network overfits less. It is off at inference.",'
    "regularisation\n"
    ',Why use a validation set?,"A validation set measures generalisation on unseen data.",\n'
)


@pytest.fixture
def no_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("VIVA_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("VIVA_LLM_MODEL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def check(path: Path) -> str:
    r = runner.invoke(app, ["rubric", "check", str(path)])
    assert r.exit_code == 0, r.output
    return r.output


def test_bank_new_scaffolds_a_valid_bank(tmp_path: Path) -> None:
    path = tmp_path / "intro.yaml"
    r = runner.invoke(app, ["bank", "new", "intro", "-o", str(path), "--title", "Intro"])
    assert r.exit_code == 0, r.output
    assert load_bank_file(path).id == "intro"
    assert "ok  " in check(path)
    r = runner.invoke(app, ["bank", "new", "intro", "-o", str(path)])
    assert r.exit_code == 2 and "exists" in r.output


def test_bank_draft_splits_the_reference_into_even_points(tmp_path: Path, no_llm: None) -> None:
    src = tmp_path / "questions.csv"
    src.write_text(QUESTIONS, encoding="utf-8")
    out = tmp_path / "draft.yaml"
    r = runner.invoke(app, ["bank", "draft", str(src), "-o", str(out), "--id", "ml"])
    assert r.exit_code == 0, r.output
    assert "no LLM configured" in r.output
    bank = load_bank_file(out)
    q = bank.question("dropout")
    assert [p.text for p in q.points] == [
        "Dropout randomly zeroes activations while training.",
        "This keeps units from co-adapting, so the network overfits less.",
        "It is off at inference.",
    ]
    assert {p.weight for p in q.points} == {1.0} and q.topic == "regularisation"
    assert bank.question("ml-02").points[0].text.startswith("A validation set")
    assert "is a draft" not in check(out)


def test_bank_draft_refuses_a_file_without_references(tmp_path: Path, no_llm: None) -> None:
    src = tmp_path / "q.csv"
    src.write_text("question\nWhat is Keras?\n", encoding="utf-8")
    r = runner.invoke(app, ["bank", "draft", str(src), "-o", str(tmp_path / "b.yaml")])
    assert r.exit_code == 2 and "prompt and reference_answer" in r.output


def test_bank_draft_with_an_llm_marks_its_additions_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAIServer
) -> None:
    monkeypatch.setenv("VIVA_LLM_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("VIVA_LLM_MODEL", "fake-model")
    get_settings.cache_clear()
    src = tmp_path / "questions.csv"
    src.write_text(QUESTIONS, encoding="utf-8")
    fake_llm.push(
        reply(
            {
                "alternatives": {
                    "dropout-randomly-zeroes": ["It switches off random neurons."],
                    "nope": ["ignored: no such point"],
                },
                "misconceptions": [
                    {"text": "Dropout is also applied when predicting.", "contradicts": "off"},
                    {"bad": "shape"},
                ],
            }
        ),
        reply("not json at all"),
    )
    out = tmp_path / "draft.yaml"
    try:
        r = runner.invoke(app, ["bank", "draft", str(src), "-o", str(out)])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert "ml-02" not in r.output or "points only" in r.output
    assert len(fake_llm.requests) == 2
    assert "What does dropout do?" in fake_llm.requests[0]["messages"][0]["content"]
    q = load_bank_file(out).question("dropout")
    first = q.points[0]
    assert first.draft and first.alternatives == ("It switches off random neurons.",)
    assert not q.points[1].draft
    (m,) = q.misconceptions
    assert m.draft and m.text == "Dropout is also applied when predicting."
    assert m.contradicts is None  # "off" is no point of the question: dropped
    raw = yaml.safe_load(out.read_text())
    assert raw["questions"][0]["points"][0]["draft"] is True
    out_text = check(out)
    assert "point dropout-randomly-zeroes is a draft" in out_text
    assert f"misconception {m.id} is a draft" in out_text


BANK = """\
id: demo
title: Demo
version: "1"
questions:
  - id: q-1
    prompt: What is dropout?
    points:
      - id: p1
        text: Dropout zeroes random units while training.
      - id: p2
        text: Dropout zeroes random units during training.
      - id: p3
        text: It is switched off at inference time.
    examples:
      - answer: Dropout zeroes random units while training the network.
        score: 0.6
      - answer: No idea.
        score: 0.0
"""


def test_rubric_check_warns_on_near_duplicates_and_uncovered_points(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(BANK, encoding="utf-8")
    out = check(path)  # warnings, not errors: the bank is valid
    assert "question q-1: points p1 and p2 are near duplicates" in out
    assert "point p3: no passing graded example shows it" in out
    assert "point p1: no passing" not in out
