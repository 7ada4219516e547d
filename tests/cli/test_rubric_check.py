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
        assert 3 <= len(q.points) <= 7, q.id
        assert q.reference_answer and q.misconceptions


def test_keras_examples_span_the_scale(keras_bank) -> None:  # type: ignore[no-untyped-def]
    """Anchors only help if each question has strong, middling and worthless answers, and a
    low-scored answer for every misconception it lists."""
    for q in keras_bank.questions:
        scores = [e.score for e in q.examples]
        assert len(scores) >= 8, q.id
        assert max(scores) >= 0.9 and any(0.8 <= s < 0.9 for s in scores), q.id
        assert any(0.4 <= s <= 0.6 for s in scores), q.id
        assert sum(s <= 0.1 for s in scores) >= 2, q.id
        for m in q.misconceptions:
            shown = [e.score for e in q.examples if e.misconception == m.id]
            assert shown and max(shown) <= 0.35, (q.id, m.id)
        texts = {p.text for p in q.points} | {a for p in q.points for a in p.alternatives}
        assert not texts & {e.answer for e in q.examples}, q.id  # written, not pasted


BAD_EXAMPLES = """\
id: demo
title: Demo
version: "1"
questions:
  - id: q-1
    prompt: What is dropout?
    points:
      - {id: p1, text: Dropout zeroes random units while training.}
    misconceptions:
      - {id: at-test, text: Dropout keeps dropping units when predicting.}
    examples:
      - {answer: "It zeroes random units while training.", score: 1.5}
      - {answer: "It makes training faster.", score: 0.1, misconception: faster}
      - {answer: "", score: 0.0}
"""


def test_bad_examples_are_named_by_question_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "examples.yaml"
    bad.write_text(BAD_EXAMPLES)
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    out = result.output
    assert f"{bad}: question q-1, field examples[0].score: " in out
    assert "less than or equal to 1" in out
    assert f"{bad}: question q-1, field examples[2].answer: " in out
    # The misconception is checked once the examples themselves are well formed.
    fixed = BAD_EXAMPLES.replace("score: 1.5", "score: 1").replace('answer: ""', "answer: x")
    bad.write_text(fixed)
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    assert (
        f"{bad}: question q-1, field examples[1].misconception: 'faster' is not a misconception "
        "of this question (known: at-test)"
    ) in result.output


def test_a_failed_item_does_not_also_report_its_list_as_empty(tmp_path: Path) -> None:
    bad = tmp_path / "one.yaml"
    bad.write_text(BROKEN.split("  - id: q-2")[0])
    result = runner.invoke(app, ["rubric", "check", str(bad)])
    assert result.exit_code == 1
    assert "points[0].weight" in result.output
    assert "at least 1 item" not in result.output


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
