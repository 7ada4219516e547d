"""Response sheets read as tables and laid out by platform, before any grading: encodings,
XLSX, HTML answers reduced to text, and each platform recognised from its header alone."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from viva.adapters.answer_files.platforms import (
    SKIP,
    ColumnOptions,
    detect_format,
    html_to_text,
    layout_for,
    rows,
)
from viva.adapters.answer_files.tables import encoding_of, table_rows
from viva.errors import InvalidInputError


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two &amp; three</p>", "One\nTwo & three"),
        ("line<br>next", "line\nnext"),
        ("<p>ok</p><script>alert('x')</script><style>p{}</style>", "ok"),
        ("<ul><li>a</li><li>b</li></ul>", "a\nb"),
        ("x &lt; y, not a tag", "x < y, not a tag"),
        ("plain text, untouched  ", "plain text, untouched  "),
        ("<img src=x onerror=alert(1)>caption", "caption"),
    ],
)
def test_html_answers_become_the_text_the_student_wrote(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        (["Timestamp", "Email Address", "What is dropout?"], "google-forms"),
        (
            ["ID", "Start time", "Completion time", "Email", "Name", "What is dropout?"],
            "google-forms",
        ),
        (["Surname", "First name", "Email address", "State", "Response 1"], "moodle"),
        (["name", "id", "sis_id", "section", "48213: What is dropout?", "1.0"], "canvas"),
        (["id", "candidate", "question_id", "answer"], None),
        (["learner", "task", "reply"], None),
    ],
)
def test_a_platform_is_recognised_from_its_header(header: list[str], fmt: str | None) -> None:
    assert detect_format(header) == fmt


def test_microsoft_forms_quiz_columns(tmp_path: Path) -> None:
    """Microsoft Forms quizzes add `Points - Q` and `Feedback - Q`: neither is a question."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    q = "What is dropout?"
    book.active.append(
        [
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "Total points",
            q,
            f"Points - {q}",
            f"Feedback - {q}",
        ]
    )
    book.active.append(
        [
            1,
            "3/2/26 9:14:05",
            "3/2/26 9:20:00",
            "a@x.example",
            "Ana",
            0,
            "It regularises.",
            None,
            None,
        ]
    )
    path = tmp_path / "ms.xlsx"
    book.save(path)
    header = next(table_rows(path))
    layout = layout_for(detect_format(header) or "", header)
    assert [c.title for c in layout.questions] == [q]
    (row,) = rows(layout, path, {q: "keras-05"})
    assert row.data["candidate"] == "a@x.example"
    assert row.data["answer"] == "It regularises."
    assert row.data["ID"] == "1"
    assert "Points - What is dropout?" not in row.data


def test_utf16_and_bom_are_told_apart(tmp_path: Path) -> None:
    text = "Timestamp\tQ\r\n2026\tÉté\r\n"
    u16, bom, plain = tmp_path / "a.txt", tmp_path / "b.csv", tmp_path / "c.csv"
    u16.write_bytes(text.encode("utf-16"))
    bom.write_bytes(codecs.BOM_UTF8 + text.replace("\t", ",").encode())
    plain.write_text(text.replace("\t", ";"), encoding="utf-8")
    assert encoding_of(u16) == "utf-16"
    assert encoding_of(bom) == encoding_of(plain) == "utf-8-sig"
    for path in (u16, bom, plain):
        assert list(table_rows(path)) == [["Timestamp", "Q"], ["2026", "Été"]]


def test_unreadable_sheets_stop_with_a_message(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    fake = tmp_path / "x.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"x.xlsx: not a readable .xlsx workbook"):
        list(table_rows(fake))
    bad = tmp_path / "y.csv"
    bad.write_bytes(b"Timestamp,Q\n\xff\xfe\x00bad")
    with pytest.raises(InvalidInputError, match=r"y.csv: not UTF-8 or UTF-16 text"):
        list(table_rows(bad))


def test_skipped_columns_pass_through_and_long_sheets_need_their_columns() -> None:
    header = ["Timestamp", "Email Address", "What is dropout?", "Comments"]
    layout = layout_for("google-forms", header)
    assert [c.title for c in layout.questions] == ["What is dropout?", "Comments"]
    with pytest.raises(InvalidInputError, match="name the --answer-col of this sheet"):
        layout_for("long", ["learner", "question", "text"])
    long = layout_for("long", ["learner", "question", "text"], ColumnOptions(answer="text"))
    assert (long.question_col, long.answer_col) == (1, 2)
    with pytest.raises(InvalidInputError, match="--question-col and --answer-col are for long"):
        layout_for("google-forms", header, ColumnOptions(answer="Comments"))
    assert SKIP == "-"


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiter_found_when_titles_hold_commas_and_semicolons(tmp_path: Path, sep: str) -> None:
    import csv

    header = ["Timestamp", "Why dropout; and how, in Keras?", "Early stopping: what, why; how?"]
    data = [["2026", "It regularises; it zeroes units, randomly.", "Stop early, keep the best."]]
    path = tmp_path / "forms.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows([header, *data, *data])
    assert list(table_rows(path)) == [header, *data, *data]
