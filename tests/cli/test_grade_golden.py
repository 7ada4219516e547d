"""`viva grade` on the shipped examples gives the JSONL it gave before, byte for byte.

The golden file is the output of `viva grade examples/answers.jsonl --bank keras -o FILE`. Only a
change that means to alter grades may regenerate it (same command, `-o` pointing at the file).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from viva.cli.main import app

pytestmark = pytest.mark.slow
GOLDEN = Path(__file__).parent / "golden" / "examples_grades.jsonl"


def _lines(path: Path) -> list[str]:
    """JSONL lines, split on "\n" only (answers may hold other line separators)."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return text[:-1].split("\n")


def test_examples_grade_to_the_golden_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "grades.jsonl"
    result = CliRunner().invoke(
        app, ["grade", str(REPO / "examples" / "answers.jsonl"), "--bank", "keras", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    golden = _lines(GOLDEN)
    actual = _lines(out)
    assert len(actual) == len(golden) == 30
    for n, (got, want) in enumerate(zip(actual, golden, strict=True), start=1):
        assert got == want, f"line {n} differs from {GOLDEN.name}"
