"""`viva grade` never loses work: outputs checked before grading, never over the input, exit
codes that tell a script what happened, delimiter detection, streaming and `--resume`.

A fast fake embedder stands in for the model (the slow tests in test_grade.py use the real one).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.answer_files import read_rows
from viva.adapters.banks import load_bank_file
from viva.app.batch import candidate_reports, grade_rows
from viva.cli.main import app
from viva.composition import Components, _components
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Grade
from viva.reports.render import render_markdown
from viva.settings import get_settings

runner = CliRunner()
GOOD = "Dropout randomly zeroes activations during training, so the network overfits less."


class CountingGrader(Grader):
    """Counts what it grades; can stop (like Ctrl-C) at a given batch."""

    def __init__(self, stop_at_batch: int | None = None) -> None:
        super().__init__(FakeEmbedder())
        self.graded = 0
        self.batches = 0
        self.stop_at_batch = stop_at_batch

    def grade_many(self, requests: Sequence[GradeRequest]) -> list[Grade]:
        self.batches += 1
        if self.batches == self.stop_at_batch:
            raise KeyboardInterrupt
        self.graded += len(requests)
        return super().grade_many(requests)


@pytest.fixture
def grader(monkeypatch: pytest.MonkeyPatch) -> CountingGrader:
    """The grader `viva grade` gets from the composition root in this test."""
    g = CountingGrader()
    settings = get_settings()
    monkeypatch.setitem(_components, settings, Components(settings, grader=g))
    return g


def rows(n: int, bad: Sequence[int] = ()) -> list[dict[str, Any]]:
    """`n` answer rows; the 1-based rows in `bad` name a question the bank does not have."""
    return [
        {
            "id": f"r{i}",
            "candidate": f"cand{i % 3}",
            "question_id": "keras-99" if i in bad else "keras-05",
            "answer": f"{GOOD} ({i})",
        }
        for i in range(1, n + 1)
    ]


def write_jsonl(path: Path, data: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    return path


def grade(*args: str | Path) -> Any:
    return runner.invoke(app, ["grade", *map(str, args)])


# --- output paths: checked before grading, never the input ---------------------------------


@pytest.mark.parametrize("name", ["missing/report.md", "missing/report.html", "missing/o.jsonl"])
def test_unwritable_output_stops_before_grading(
    tmp_path: Path, grader: CountingGrader, name: str
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(3))
    out = tmp_path / name
    result = grade(answers, "-o", out)
    assert result.exit_code == 2, result.output
    assert f"error: {out}: cannot write" in result.output
    assert "Traceback" not in result.output
    assert grader.batches == 0
    assert not out.parent.exists()


def test_output_that_is_a_directory_or_under_a_file_exits_2(
    tmp_path: Path, grader: CountingGrader
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(3))
    (tmp_path / "dir.md").mkdir()
    for out, message in [
        (tmp_path / "dir.md", "is a directory"),
        (answers / "r.md", "is not a directory"),
    ]:
        result = grade(answers, "-o", out)
        assert result.exit_code == 2, result.output
        assert str(out) in result.output and message in result.output
    assert grader.batches == 0


def test_an_existing_report_is_kept_when_the_check_passes_and_the_run_stops(
    tmp_path: Path, grader: CountingGrader
) -> None:
    """The writability check appends nothing: an old report survives a run that stops early."""
    answers = tmp_path / "a.jsonl"
    answers.write_text("{oops\n")  # every row bad, but it is input, not arguments
    out = tmp_path / "old.md"
    out.write_text("old report")
    result = grade(answers, "-o", out, "--bank", "no-such-bank")
    assert result.exit_code == 2
    assert out.read_text() == "old report"


def test_refuses_to_write_over_the_input(tmp_path: Path, grader: CountingGrader) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(2))
    before = answers.read_bytes()
    (tmp_path / "sub").mkdir()
    symlink = tmp_path / "link.jsonl"
    symlink.symlink_to(answers)
    hardlink = tmp_path / "hard.jsonl"
    os.link(answers, hardlink)
    for out in (answers, tmp_path / "sub" / ".." / "a.jsonl", symlink, hardlink):
        result = grade(answers, "-o", out)
        assert result.exit_code == 2, (out, result.output)
        assert f"{out}: is the input file; refusing to write over it" in result.output
    assert answers.read_bytes() == before
    assert grader.batches == 0


# --- exit codes ----------------------------------------------------------------------------


def test_exit_0_when_every_row_is_graded(tmp_path: Path, grader: CountingGrader) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(4))
    result = grade(answers, "-o", tmp_path / "o.jsonl")
    assert result.exit_code == 0, result.output
    assert "graded 4 of 4 rows" in result.output and "failed" not in result.output


def test_a_row_answering_another_question_of_the_bank_names_it(
    tmp_path: Path, grader: CountingGrader
) -> None:
    """A sheet whose question column is off by one: the grades say which question each answer
    reads as, in the JSONL and in the readable report."""
    keras = load_bank_file(REPO / "rubrics" / "keras.yaml")
    early_stopping = " ".join(p.text for p in keras.question("keras-09").points)
    data = [
        {"id": "right", "question_id": "keras-09", "answer": early_stopping},
        {"id": "shifted", "question_id": "keras-10", "answer": early_stopping},
    ]
    answers = write_jsonl(tmp_path / "a.jsonl", data)
    assert grade(answers, "-o", tmp_path / "o.jsonl").exit_code == 0
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in out}
    assert by_id["right"]["other_question"] is None
    assert by_id["shifted"]["other_question"]["id"] == "keras-09"
    assert "other_question" in by_id["shifted"]["flags"]
    shown = grade(answers)  # the terminal table, no output file
    assert "other_question: reads as keras-09" in " ".join(shown.output.split())
    assert grade(answers, "-o", tmp_path / "r.md").exit_code == 0
    assert "Reads as an answer to keras-09" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("ext", ["jsonl", "csv", "md", "html", None])
def test_exit_1_with_a_count_when_some_rows_fail(
    tmp_path: Path, grader: CountingGrader, ext: str | None
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(5, bad=[2, 4]))
    with answers.open("a") as fh:
        fh.write("{oops\n")  # an invalid JSON line is a failed row too
    args: list[str | Path] = [] if ext is None else ["-o", tmp_path / f"out.{ext}"]
    result = grade(answers, *args)
    assert result.exit_code == 1, result.output
    assert "3 of 6 rows failed" in result.output
    assert "skipped row 2 (id r2): unknown question_id 'keras-99'" in result.output
    assert "line 6: invalid JSON" in result.output


def test_exit_2_for_unusable_input_or_arguments(tmp_path: Path, grader: CountingGrader) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    no_answers = write_jsonl(tmp_path / "x.jsonl", [{"question_id": "keras-05"}])
    good = write_jsonl(tmp_path / "a.jsonl", rows(1))
    cases: list[tuple[list[str | Path], str]] = [
        ([empty], "no rows to grade"),
        ([no_answers], "missing field(s) answer in every row"),
        ([good, "--delimiter", ";"], "--delimiter is for CSV input"),
        ([good, "--resume"], "--resume needs --output FILE.jsonl or FILE.csv"),
        ([good, "--resume", "-o", tmp_path / "r.md"], "--resume needs --output"),
    ]
    for args, message in cases:
        result = grade(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    assert grader.batches == 0


def test_help_documents_the_exit_codes() -> None:
    result = runner.invoke(app, ["grade", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Exit codes: 0 every row graded; 1 some rows failed" in text
    assert "2 unusable input or arguments" in text


# --- CSV delimiters ------------------------------------------------------------------------


def _csv(delimiter: str, data: list[dict[str, Any]]) -> str:
    lines = [delimiter.join(["id", "candidate", "question_id", "answer"])]
    for r in data:
        answer = '"' + r["answer"].replace('"', '""') + ', with a comma"'
        lines.append(delimiter.join([r["id"], r["candidate"], r["question_id"], answer]))
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(("delimiter", "bom"), [(";", True), (";", False), ("\t", False)])
def test_semicolon_and_tab_csv_are_detected(
    tmp_path: Path, grader: CountingGrader, delimiter: str, bom: bool
) -> None:
    """Excel in many locales saves `;`-separated CSV with a UTF-8 BOM and CRLF line ends."""
    path = tmp_path / "excel.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + _csv(delimiter, rows(3)).encode())
    out = tmp_path / "o.jsonl"
    result = grade(path, "-o", out)
    assert result.exit_code == 0, result.output
    graded = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in graded] == ["r1", "r2", "r3"]
    assert all(r["score"] is not None for r in graded)


def test_delimiter_option_overrides_detection(tmp_path: Path, grader: CountingGrader) -> None:
    path = tmp_path / "semi.csv"
    path.write_text(_csv(";", rows(2)))
    result = grade(path, "--delimiter", ",")
    assert result.exit_code == 2
    assert "missing column(s) question_id, answer" in result.output
    assert "read with a comma delimiter" in result.output
    tab = tmp_path / "tab.csv"
    tab.write_text(_csv("\t", rows(2)))
    assert grade(tab, "--delimiter", "tab", "-o", tmp_path / "o.jsonl").exit_code == 0
    result = grade(tab, "--delimiter", "|")
    assert result.exit_code == 2 and "--delimiter takes ',', ';' or 'tab'" in result.output


# --- streaming -----------------------------------------------------------------------------


def test_an_interrupted_run_keeps_every_finished_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the third batch: the first two (128 rows each) are already on disk."""
    g = CountingGrader(stop_at_batch=3)
    settings = get_settings()
    monkeypatch.setitem(_components, settings, Components(settings, grader=g))
    answers = write_jsonl(tmp_path / "a.jsonl", rows(400))
    out = tmp_path / "o.jsonl"
    result = grade(answers, "-o", out)
    assert result.exit_code == 130
    assert f"interrupted: 256 rows are in {out}; add --resume to continue" in result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        f"r{i}" for i in range(1, 257)
    ]


def test_markdown_report_from_the_spool_matches_one_built_in_memory(
    tmp_path: Path, grader: CountingGrader, keras_bank: Any
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(7, bad=[5]))
    out = tmp_path / "r.md"
    assert grade(answers, "-o", out).exit_code == 1
    in_memory = candidate_reports(
        grade_rows(read_rows(answers), keras_bank, Grader(FakeEmbedder())), keras_bank
    )
    assert [r.candidate for r in in_memory] == ["cand0", "cand1", "cand2"]
    assert out.read_text() == "\n\n---\n\n".join(render_markdown(r) for r in in_memory)


# --- --resume ------------------------------------------------------------------------------


def _interrupt(out: Path, keep_records: int, torn: bool) -> bytes:
    """Cut `out` after `keep_records` records (+ half the next one); returns what was kept."""
    data = out.read_bytes()
    ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    kept = data[: ends[keep_records - 1]]
    tail = data[ends[keep_records - 1] : ends[keep_records]][:-7] if torn else b""
    out.write_bytes(kept + tail)
    return kept


@pytest.mark.parametrize("ext", ["jsonl", "csv"])
@pytest.mark.parametrize("torn", [True, False])
def test_resume_finishes_an_interrupted_output_as_a_full_run_would(
    tmp_path: Path, grader: CountingGrader, ext: str, torn: bool
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(9, bad=[3]))
    full = tmp_path / f"full.{ext}"
    assert grade(answers, "-o", full).exit_code == 1
    out = tmp_path / f"out.{ext}"
    out.write_bytes(full.read_bytes())
    header = 1 if ext == "csv" else 0
    kept = _interrupt(out, keep_records=header + 4, torn=torn)
    grader.graded = 0
    result = grade(answers, "-o", out, "--resume")
    assert result.exit_code == 1, result.output  # row 3 failed in the first run
    assert "resuming: 4 rows already in" in result.output
    assert "1 of 9 rows failed" in result.output
    assert grader.graded == 5  # only the rows not written yet
    assert out.read_bytes().startswith(kept)
    assert out.read_bytes() == full.read_bytes()


def test_resume_without_an_output_yet_is_a_fresh_run(
    tmp_path: Path, grader: CountingGrader
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(3))
    out = tmp_path / "o.csv"
    assert grade(answers, "-o", out, "--resume").exit_code == 0
    assert [r["id"] for r in csv.DictReader(out.read_text().splitlines())] == ["r1", "r2", "r3"]


def test_resume_spends_each_written_id_once(tmp_path: Path, grader: CountingGrader) -> None:
    data = rows(4)
    data[2]["id"] = data[3]["id"] = "same"
    answers = write_jsonl(tmp_path / "a.jsonl", data)
    out = tmp_path / "o.jsonl"
    assert grade(answers, "-o", out).exit_code == 0
    full = out.read_bytes()
    _interrupt(out, keep_records=3, torn=False)
    assert grade(answers, "-o", out, "--resume").exit_code == 0
    assert out.read_bytes() == full


def test_resume_refuses_a_file_it_did_not_write(tmp_path: Path, grader: CountingGrader) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(2))
    for name, text in [("o.jsonl", "not json\n"), ("o.csv", "a,b\n1,2\n")]:
        out = tmp_path / name
        out.write_text(text)
        result = grade(answers, "-o", out, "--resume")
        assert result.exit_code == 2, result.output
        assert "cannot be resumed" in result.output
        assert out.read_text() == text
    assert grader.batches == 0


def test_without_resume_an_existing_output_is_overwritten(
    tmp_path: Path, grader: CountingGrader
) -> None:
    answers = write_jsonl(tmp_path / "a.jsonl", rows(2))
    out = tmp_path / "o.jsonl"
    out.write_text("old\n" * 10)
    assert grade(answers, "-o", out).exit_code == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["r1", "r2"]


def _endless() -> Iterator[Any]:
    from viva.adapters.answer_files import RawRow

    n = 0
    while True:
        n += 1
        yield RawRow(n, {"id": f"r{n}", "question_id": "keras-05", "answer": GOOD})


def test_rows_are_graded_as_a_stream(keras_bank: Any) -> None:
    """An endless input still yields its first batch: nothing reads the whole input first."""
    from viva.app.batch import grade_chunks

    first = next(grade_chunks(_endless(), keras_bank, Grader(FakeEmbedder()), chunk_size=5))
    assert [r.id for r in first] == ["r1", "r2", "r3", "r4", "r5"]
