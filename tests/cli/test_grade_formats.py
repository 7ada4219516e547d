"""`viva grade --format/--output-format`: bad choices stop before any grading, with the choices."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from viva.cli.main import app

runner = CliRunner()
ANSWERS = str(REPO / "examples" / "answers.csv")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "unknown input format 'xlsx'; known formats: jsonl (.jsonl, "),
        (["-o", "{tmp}/out.pdf"], "out.pdf: unknown output format .pdf; known formats: jsonl"),
        (
            ["-o", "{tmp}/out.csv", "--output-format", "pdf"],
            "unknown output format 'pdf'; known formats: jsonl (.jsonl), csv (.csv), md (.md), "
            "html (.html)",
        ),
        (["--output-format", "csv"], "--output-format needs --output FILE"),
    ],
)
def test_unknown_format_exits_2_and_lists_the_known_ones(
    tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, ["grade", ANSWERS, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_help_shows_the_format_choices() -> None:
    result = runner.invoke(app, ["grade", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Input format: jsonl | csv" in result.output
    assert "Output format: jsonl | csv | md | html" in result.output
