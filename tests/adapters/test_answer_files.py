"""Answer-file readers and writers: chosen by name or suffix, and what each one reads or writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from viva.adapters.answer_files import (
    CSV_COLUMNS,
    READERS,
    WRITERS,
    ReportWriter,
    StreamWriter,
    read_rows,
    reader_for,
    writer_for,
)
from viva.core.report import build_report
from viva.domain.models import QuestionReport, Report
from viva.errors import InvalidInputError
from viva.reports.render import render_html, render_markdown

CSV_TEXT = "id,candidate,question_id,answer,cohort\na1,ada,keras-05,Dropout zeroes units.,spring\n"


def record(rid: str, coverages: dict[str, float], **extra: Any) -> dict[str, Any]:
    """A graded record shaped like `GradedRow.record()`, with only what the writers read."""
    return {
        "row": 1,
        "id": rid,
        "candidate": "ada",
        "question_id": "keras-05",
        "score": 0.5,
        "points": [{"id": pid, "coverage": c, "covered": c >= 0.5} for pid, c in coverages.items()],
        "misconceptions": [
            {"id": "m-on", "triggered": True},
            {"id": "m-off", "triggered": False},
        ],
        "flags": ["short", "off_topic"],
        "bank_id": "keras",
        "input": {"cohort": "spring"},
        **extra,
    }


# --- readers ------------------------------------------------------------------------------


def test_reader_is_chosen_by_suffix_by_default(tmp_path: Path) -> None:
    assert reader_for(tmp_path / "a.JSONL") is READERS["jsonl"]
    assert reader_for(tmp_path / "a.ndjson") is READERS["jsonl"]
    assert reader_for(tmp_path / "a.csv") is READERS["csv"]


def test_a_named_format_overrides_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text(CSV_TEXT, encoding="utf-8")
    rows = read_rows(path, "csv")
    assert [(r.row, r.data, r.error) for r in rows] == [
        (
            1,
            {
                "id": "a1",
                "candidate": "ada",
                "question_id": "keras-05",
                "answer": "Dropout zeroes units.",
                "cohort": "spring",
            },
            None,
        )
    ]
    # The same bytes named as JSONL are not JSON: the name, not the suffix, decided.
    as_jsonl = read_rows(path, "JSONL")
    assert all(r.error and "invalid JSON" in r.error for r in as_jsonl)


@pytest.mark.parametrize(
    ("name", "filename", "expected"),
    [
        ("xlsx", "a.csv", "unknown input format 'xlsx'"),
        (None, "a.txt", "a.txt: unknown input format .txt"),
        (None, "noext", "unknown input format (no suffix)"),
    ],
)
def test_unknown_input_format_lists_the_known_ones(
    tmp_path: Path, name: str | None, filename: str, expected: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        read_rows(tmp_path / filename, name)
    message = str(info.value)
    assert expected in message
    assert "known formats: jsonl (.jsonl, .ndjson), csv (.csv)" in message


def test_bad_rows_become_error_rows_and_missing_columns_stop_the_run(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(CSV_TEXT + "a2,bob,keras-05,two,three,four\n", encoding="utf-8")
    rows = read_rows(path)
    assert rows[0].error is None
    assert rows[1].error == "row 2: more fields than the header has"
    path.write_text("id,question\n1,keras-01\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"missing column\(s\) question_id, answer"):
        read_rows(path)


# --- writers ------------------------------------------------------------------------------


def test_every_writer_is_either_streamed_or_a_report() -> None:
    kinds = {
        name: (isinstance(w, StreamWriter), isinstance(w, ReportWriter))
        for name, w in WRITERS.items()
    }
    assert kinds == {
        "jsonl": (True, False),
        "csv": (True, False),
        "md": (False, True),
        "html": (False, True),
    }


def test_writer_is_chosen_by_suffix_or_name(tmp_path: Path) -> None:
    for name in WRITERS:
        assert writer_for(tmp_path / f"out.{name.upper()}") is WRITERS[name]
        assert writer_for(tmp_path / "out.txt", name) is WRITERS[name]
    with pytest.raises(InvalidInputError) as info:
        writer_for(tmp_path / "out.ndjson")
    assert "out.ndjson: unknown output format .ndjson" in str(info.value)
    assert "jsonl (.jsonl), csv (.csv), md (.md), html (.html)" in str(info.value)
    with pytest.raises(InvalidInputError, match="unknown output format 'pdf'"):
        writer_for(tmp_path / "out.csv", "pdf")


def test_jsonl_stream_flushes_each_batch_before_the_run_ends(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    writer = WRITERS["jsonl"]
    assert isinstance(writer, StreamWriter)
    first = record("a1", {"p1": 0.9}, answer="naïve — “quoted”")
    with writer.open(out) as sink:
        sink.write([first])
        # An interrupted run keeps this batch: it is on disk before the next one is graded.
        assert out.read_bytes() == (json.dumps(first, ensure_ascii=False) + "\n").encode()
        sink.write([record("a2", {}), record("a3", {})])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a1", "a2", "a3"]
    assert "naïve — “quoted”" in lines[0]  # not \u-escaped


def test_csv_stream_writes_a_header_then_one_line_per_row(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    writer = WRITERS["csv"]
    assert isinstance(writer, StreamWriter)
    with writer.open(out) as sink:
        sink.write([record("a1", {"p1": 0.5, "p2": 0.49, "p3": 1.0}, model="m")])
        header, first = out.read_bytes().decode().split("\r\n")[:2]
        assert header == ",".join(CSV_COLUMNS) and first.startswith("1,a1,ada,")
        sink.write([{"row": 2, "id": "a2", "score": None, "error": "row 2: missing answer"}])
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == {
        "row": "1",
        "id": "a1",
        "candidate": "ada",
        "question_id": "keras-05",
        "score": "0.5",
        "covered": "p1 p3",
        "missed": "p2",
        "misconceptions": "m-on",
        "flags": "short off_topic",
        "bank_id": "keras",
        "bank_version": "",
        "model": "m",
        "calibration": "",
        "feedback_status": "",
        "error": "",
    }
    assert rows[1]["id"] == "a2" and rows[1]["error"] == "row 2: missing answer"
    assert rows[1]["covered"] == rows[1]["missed"] == rows[1]["flags"] == ""


def _report(candidate: str) -> Report:
    error = QuestionReport(
        question_id="keras-99",
        prompt="(unknown question)",
        topic="unknown",
        difficulty="medium",
        status="error",
        error="row 1: unknown question_id",
    )
    report = build_report([], bank_id="keras", bank_version="1.0.0", candidate=candidate)
    return report.model_copy(update={"questions": [error]})


def test_markdown_report_is_one_section_per_candidate(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    writer = WRITERS["md"]
    assert isinstance(writer, ReportWriter)
    ada, bob = _report("ada"), _report("bob")
    writer.write(out, [ada, bob], title="unused")
    text = out.read_text(encoding="utf-8")
    assert text == render_markdown(ada) + "\n\n---\n\n" + render_markdown(bob)
    assert text.index("ada") < text.index("bob")


def test_html_report_is_one_page_for_all_candidates(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    writer = WRITERS["html"]
    assert isinstance(writer, ReportWriter)
    reports = [_report("ada"), _report("bob")]
    writer.write(out, reports, title="Viva report — <answers>.csv")
    text = out.read_text(encoding="utf-8")
    assert text == render_html(reports, title="Viva report — <answers>.csv")
    assert "Viva report — &lt;answers&gt;.csv" in text and "ada" in text and "bob" in text


# --- delimiters and resuming -----------------------------------------------------------------


def test_delimiter_is_read_from_the_header_then_sniffed() -> None:
    from viva.adapters.answer_files import detect_delimiter, parse_delimiter

    # The answers hold commas; the header decides.
    assert detect_delimiter("id;question_id;answer\n1;keras-01;a, b, c, d\n") == ";"
    assert detect_delimiter("question_id\tanswer\nkeras-01\tx, y; z\n") == "\t"
    assert detect_delimiter("question_id,answer\nkeras-01,x; y; z\n") == ","
    # Without the required columns: csv.Sniffer's guess among the three, else a comma.
    assert detect_delimiter("a;b;c\n1;2;3\n4;5;6\n") == ";"
    assert detect_delimiter("") == ","
    assert [parse_delimiter(v) for v in (",", ";", "tab", "TAB", "\\t", "\t")] == [
        ",",
        ";",
        "\t",
        "\t",
        "\t",
        "\t",
    ]
    with pytest.raises(InvalidInputError, match="--delimiter takes"):
        parse_delimiter("|")


def test_written_drops_a_csv_row_cut_inside_a_quoted_field(tmp_path: Path) -> None:
    from viva.adapters.answer_files import Written

    out = tmp_path / "out.csv"
    writer = WRITERS["csv"]
    assert isinstance(writer, StreamWriter)
    assert writer.written(out) == Written()  # no file yet: nothing written
    with writer.open(out) as sink:
        sink.write([record("a1", {}), record("two\nlines", {}, error="row 2: bad")])
    whole = out.read_bytes()
    out.write_bytes(whole + b'3,"cut\r\nshort')  # a kill inside a quoted, multi-line id
    done = writer.written(out)
    assert (done.rows, done.failed, dict(done.ids)) == (2, 1, {"a1": 1, "two\nlines": 1})
    assert out.read_bytes() == whole
    with writer.open(out, append=True) as sink:  # no second header when appending
        sink.write([record("a3", {})])
    ids = [r["id"] for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines(True))]
    assert ids == ["a1", "two\nlines", "a3"]
