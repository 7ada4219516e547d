"""`viva rubric check`: the shipped banks pass; a broken bank is named down to the field."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import REPO
from viva.cli.main import app

runner = CliRunner()

BROKEN = """\
id: demo
title: Demo
version: "1"
questions:
  - id: q-1
    prompt: What is dropout?
    points:
      - id: p1
        text: Dropout zeroes random units while training.
        weight: -2
  - id: q-2
    prompt: What is pooling?
    points: []
"""


def test_shipped_banks_are_valid() -> None:
    result = runner.invoke(app, ["rubric", "check", str(REPO / "rubrics")])
    assert result.exit_code == 0, result.output
    assert "bank keras v" in result.output
    assert "11 questions" in result.output


def test_keras_bank_shape(keras_bank) -> None:  # type: ignore[no-untyped-def]
    ids = [q.id for q in keras_bank.questions]
    assert ids == [f"keras-{i:02d}" for i in range(1, 12)]
    for q in keras_bank.questions:
        assert 3 <= len(q.points) <= 6, q.id
        assert q.reference_answer and q.misconceptions


def test_errors_name_file_question_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    out = result.output
    assert f"{bad}: question q-1, field points[0].weight" in out
    assert f"{bad}: question q-2, field points" in out


def test_invalid_yaml_and_missing_path(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed\n")
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    assert "invalid YAML" in result.output and "line" in result.output
    missing = runner.invoke(app, ["rubric", "check", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "no such file" in missing.output


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "extra.yaml"
    bad.write_text(
        BROKEN.replace("weight: -2", "weight: 2\n        colour: red").replace(
            "    points: []\n", "    points:\n      - {id: p, text: Pooling shrinks maps.}\n"
        )
    )
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    assert "points[0].colour" in result.output


def test_invalid_settings_are_reported_by_name(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from viva.settings import get_settings

    monkeypatch.setenv("VIVA_EMBEDDING_BATCH_SIZE", "lots")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["rubric", "check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "VIVA_EMBEDDING_BATCH_SIZE" in result.output
