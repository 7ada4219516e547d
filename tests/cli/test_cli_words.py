"""The CLI's own words: --version, help without typer's `<bool>`/`{answers}`, counts in English."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from viva import __version__
from viva.cli.main import app
from viva.core.wording import counted

runner = CliRunner()


def test_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"viva {__version__}"


def test_help_texts_read_plainly() -> None:
    for args in ([], ["grade"], ["serve"], ["calibrate"], ["rubric", "check"], ["keys"]):
        r = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
        assert r.exit_code == 0, (args, r.output)
        assert "<bool>" not in r.output and "{" not in r.output.split("\n", 3)[1], args
    usage = runner.invoke(app, ["grade", "--help"], env={"COLUMNS": "160"}).output
    assert "viva grade [OPTIONS] ANSWERS" in usage


def test_counts_are_singular_for_one(tmp_path: Path) -> None:
    assert counted(1, "question") == "1 question" and counted(2, "question") == "2 questions"
    bank = tmp_path / "one.yaml"
    bank.write_text(
        "id: one\ntitle: One\nversion: '1'\nquestions:\n  - id: q\n    prompt: Why?\n"
        "    points:\n      - id: p\n        text: Because it is so.\n"
    )
    r = runner.invoke(app, ["rubric", "check", str(bank)])
    assert r.exit_code == 0 and "1 question, 1 point" in r.output, r.output
