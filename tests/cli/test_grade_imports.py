"""Teachers' exports in, grades and gradebooks out: every fixture in tests/fixtures/exports is
graded end to end through `viva grade`, and `viva gradebook` turns the grades into the CSVs
Moodle and Canvas import.

The fixtures follow each platform's documented export (headers, a UTF-8 BOM, Excel's UTF-16
"Unicode text", HTML in Moodle answers, multi-line cells). A fake embedder stands in for the
model; `test_real_model_matches_form_titles` checks the matching with the real one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.cli.main import app
from viva.composition import Components, _components
from viva.core.grader import Grader
from viva.settings import get_settings

runner = CliRunner()
EXPORTS = REPO / "tests" / "fixtures" / "exports"
FORMS = EXPORTS / "google_forms_responses.csv"
FORMS_UTF16 = EXPORTS / "google_forms_excel_unicode.txt"
MOODLE = EXPORTS / "moodle_responses.csv"
CANVAS = EXPORTS / "canvas_student_analysis.csv"
COMMENTS = "Any comments about the course?"
SKIP_COMMENTS = f"{COMMENTS}=-"


@pytest.fixture(autouse=True)
def fake_grader(monkeypatch: pytest.MonkeyPatch) -> Grader:
    g = Grader(FakeEmbedder())
    settings = get_settings()
    monkeypatch.setitem(_components, settings, Components(settings, grader=g))
    return g


def grade(*args: str | Path) -> Any:
    return runner.invoke(app, ["grade", *map(str, args)])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_forms_sheet_stops_on_a_column_it_cannot_match(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    result = grade(FORMS, "-o", out)
    assert result.exit_code == 2, result.output
    # The mapping table is shown, with the confident matches and the one needing --map.
    assert "read as google-forms" in result.output
    for qid in ("keras-05", "keras-09", "keras-03"):
        assert qid in result.output
    assert "1 question column(s) could not be matched" in result.output
    assert f'--map "{SKIP_COMMENTS}"' in result.output
    assert not out.exists()


def test_google_forms_round_trip_to_grades_and_gradebooks(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    result = grade(FORMS, "--map", SKIP_COMMENTS, "-o", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert len(rows) == 9  # 3 respondents x 3 questions; the comments column is not graded
    assert [r["id"] for r in rows[:3]] == ["r1/keras-05", "r1/keras-09", "r1/keras-03"]
    by_id = {r["id"]: r for r in rows}
    ana, ben = by_id["r1/keras-05"], by_id["r2/keras-05"]
    assert ana["candidate"] == "ana.lopez@school.example"
    assert float(ana["score"]) > float(ben["score"])
    assert float(by_id["r1/keras-09"]["score"]) > float(by_id["r2/keras-09"]["score"])
    # Respondent columns, and the skipped one, pass through under their own names.
    assert ana["Your name"] == "Ana López"
    assert ana["Timestamp"] == "2026/03/02 9:14:05 AM GMT+1"
    assert by_id["r3/keras-05"][COMMENTS] == 'More exercises, "please"'
    assert ana["question"].startswith("What problem does dropout solve")

    moodle = tmp_path / "moodle.csv"
    result = runner.invoke(
        app, ["gradebook", str(out), "--to", "moodle", "--points", "10", "-o", str(moodle)]
    )
    assert result.exit_code == 0, result.output
    book = read_csv(moodle)
    assert list(book[0]) == ["Email address", "Viva", "Feedback for Viva"]
    mean = sum(float(by_id[f"r1/{q}"]["score"]) for q in ("keras-05", "keras-09", "keras-03")) / 3
    ana_row = next(r for r in book if r["Email address"] == "ana.lopez@school.example")
    assert float(ana_row["Viva"]) == pytest.approx(round(mean * 10, 2))
    assert ana_row["Feedback for Viva"] == "Viva: 3 of 3 questions graded"

    canvas = tmp_path / "canvas.csv"
    args = ["gradebook", str(out), "--to", "canvas", "--points", "20", "--item", "Quiz 3"]
    result = runner.invoke(app, [*args, "-o", str(canvas)])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(canvas.open(encoding="utf-8", newline="")))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 3"]
    assert lines[1][0].strip() == "Points Possible" and lines[1][-1] == "20"
    ana_line = next(line for line in lines if line[0] == "Ana López")
    assert ana_line[3] == "ana.lopez@school.example"
    assert float(ana_line[-1]) == pytest.approx(round(mean * 20, 2))

    summary = tmp_path / "summary.csv"
    result = runner.invoke(app, ["gradebook", str(out), "-o", str(summary), "--points", "10"])
    assert result.exit_code == 0, result.output
    s = {r["candidate"]: r for r in read_csv(summary)}
    assert set(s) == {
        "ana.lopez@school.example",
        "ben.okafor@school.example",
        "chloe.martin@school.example",
    }
    assert s["ana.lopez@school.example"]["keras-05"] == f"{float(ana['score']):.4f}"
    assert s["ana.lopez@school.example"]["Your name"] == "Ana López"
    assert "question" not in s["ana.lopez@school.example"]  # a per-row field


def test_excel_unicode_text_reads_like_the_utf8_sheet(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert grade(FORMS, "--map", SKIP_COMMENTS, "-o", a).exit_code == 0
    result = grade(FORMS_UTF16, "--map", SKIP_COMMENTS, "-o", b)
    assert result.exit_code == 0, result.output
    pick = [(r["id"], r["candidate"], r["score"], r["input"]) for r in read_jsonl(a)]
    assert pick == [(r["id"], r["candidate"], r["score"], r["input"]) for r in read_jsonl(b)]
    # Multi-line cells survive both encodings.
    from viva.adapters.banks import load_bank_file
    from viva.app.importing import plan_import

    bank = load_bank_file(REPO / "rubrics" / "keras.yaml")
    embedder = FakeEmbedder()
    utf8, utf16 = (
        [
            r.data
            for r in plan_import(p, "google-forms", bank, embedder, maps=[SKIP_COMMENTS]).rows()
        ]
        for p in (FORMS, FORMS_UTF16)
    )
    assert utf8 == utf16
    assert utf8[0]["answer"].startswith("Dropout fights overfitting.\nDuring training")


def moodle_rows() -> list[list[str]]:
    with MOODLE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_moodle_responses_csv_is_graded(tmp_path: Path) -> None:
    out = tmp_path / "grades.jsonl"
    result = grade(MOODLE, "-o", out)
    assert result.exit_code == 0, result.output
    assert "read as moodle" in result.output
    rows = read_jsonl(out)
    # Two attempts x two questions; the "Overall average" row is not an attempt.
    assert [r["id"] for r in rows] == ["r1/keras-05", "r1/keras-09", "r2/keras-05", "r2/keras-09"]
    assert rows[0]["candidate"] == "ana.lopez@school.example"
    assert rows[0]["input"]["First name"] == "Ana"
    assert "Response 1" not in rows[0]["input"]  # answers are not passed through
    assert rows[0]["score"] > rows[2]["score"]
    assert rows[3]["score"] == 0.0  # Moodle's "-": not answered


def test_moodle_html_answers_become_plain_text(fake_grader: Grader) -> None:
    from viva.adapters.banks import load_bank_file
    from viva.app.importing import plan_import

    bank = load_bank_file(REPO / "rubrics" / "keras.yaml")
    plan = plan_import(MOODLE, "moodle", bank, fake_grader.embedder)
    assert plan.confirmed
    # Response N was matched through the text of Question N, HTML and all.
    assert {m.title: m.question_id for m in plan.matches} == {
        "Response 1": "keras-05",
        "Response 2": "keras-09",
    }
    answer = next(plan.rows()).data["answer"]
    assert answer.startswith("Dropout fights overfitting.\n")
    assert "<" not in answer and "alert" not in answer
    assert "every step & at inference" in answer


def test_moodle_responses_xlsx_grades_like_the_csv(tmp_path: Path) -> None:
    book = pytest.importorskip("openpyxl").Workbook()
    sheet = book.active
    for cells in moodle_rows():
        sheet.append(cells)
    xlsx = tmp_path / "responses.xlsx"
    book.save(xlsx)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert grade(MOODLE, "-o", a).exit_code == 0
    result = grade(xlsx, "-o", b)
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["score"]) for r in read_jsonl(a)] == [
        (r["id"], r["score"]) for r in read_jsonl(b)
    ]


def test_canvas_student_analysis_is_graded_and_goes_back_to_canvas(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    result = grade(CANVAS, "-o", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [r["id"] for r in rows] == ["r1/keras-05", "r1/keras-09", "r2/keras-05", "r2/keras-09"]
    assert rows[0]["candidate"] == "Ana Lopez"
    assert rows[0]["canvas_id"] == "2051"  # Canvas's `id`, kept apart from Viva's row id
    assert rows[0]["sis_id"] == "S1001"
    assert "1.0" not in rows[0]  # the points columns are neither questions nor passed through
    assert float(rows[0]["score"]) > float(rows[2]["score"])

    book = tmp_path / "canvas.csv"
    args = ["gradebook", str(out), "--to", "canvas", "--points", "5", "-o", str(book)]
    assert runner.invoke(app, args).exit_code == 0
    lines = list(csv.reader(book.open(encoding="utf-8", newline="")))
    assert lines[2][:5] == ["Ana Lopez", "2051", "S1001", "", "Keras 101"]


def test_canvas_question_id_stands_for_its_column_in_map(tmp_path: Path) -> None:
    out = tmp_path / "grades.jsonl"
    result = grade(CANVAS, "--map", "48214=keras-10", "-o", out)
    assert result.exit_code == 0, result.output
    assert [r["question_id"] for r in read_jsonl(out)][:2] == ["keras-05", "keras-10"]


def test_excel_workbook_is_read_with_the_library(tmp_path: Path) -> None:
    """A Forms sheet as Excel saves it: real dates and numbers, not text."""
    import datetime as dt

    from viva.adapters.answer_files.tables import table_rows

    book = pytest.importorskip("openpyxl").Workbook()
    sheet = book.active
    sheet.append(["Timestamp", "Email", "Student number", "What is early stopping in Keras?"])
    sheet.append(
        [dt.datetime(2026, 3, 2, 9, 14, 5), "a@x.example", 1042.0, "Stop when val_loss\nstalls."]
    )
    path = tmp_path / "forms.xlsx"
    book.save(path)
    assert list(table_rows(path)) == [
        ["Timestamp", "Email", "Student number", "What is early stopping in Keras?"],
        ["2026-03-02 09:14:05", "a@x.example", "1042", "Stop when val_loss\nstalls."],
    ]
    out = tmp_path / "grades.jsonl"
    result = grade(path, "-o", out)
    assert result.exit_code == 0, result.output
    (row,) = read_jsonl(out)
    assert (row["question_id"], row["candidate"]) == ("keras-09", "a@x.example")
    assert row["input"]["Student number"] == "1042"


def test_generic_long_sheet_with_named_columns(tmp_path: Path) -> None:
    sheet = tmp_path / "export.csv"
    sheet.write_text(
        "Learner;Task;Reply;Mark\n"
        "u1;keras-05;Dropout randomly zeroes activations during training.;x\n"
        "u2;What is early stopping, and how would you set it up in Keras?;"
        "An EarlyStopping callback watching val_loss.;y\n",
        encoding="utf-8",
    )
    out = tmp_path / "grades.csv"
    args = ["--candidate-col", "Learner", "--question-col", "Task", "--answer-col", "Reply"]
    result = grade(sheet, *args, "-o", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [(r["candidate"], r["question_id"], r["Mark"]) for r in rows] == [
        ("u1", "keras-05", "x"),
        ("u2", "keras-09", "y"),
    ]


def test_generic_wide_sheet(tmp_path: Path) -> None:
    sheet = tmp_path / "wide.csv"
    sheet.write_text(
        "Pupil,keras-05,What is early stopping and how do you set it up in Keras?\n"
        "p1,Dropout zeroes random units while training.,EarlyStopping on val_loss.\n",
        encoding="utf-8",
    )
    out = tmp_path / "grades.jsonl"
    result = grade(sheet, "--wide", "--candidate-col", "Pupil", "-o", out)
    assert result.exit_code == 0, result.output
    assert [(r["candidate"], r["question_id"]) for r in read_jsonl(out)] == [
        ("p1", "keras-05"),
        ("p1", "keras-09"),
    ]


def test_unknown_column_option_names_the_header(tmp_path: Path) -> None:
    result = grade(FORMS, "--candidate-col", "Matricule", "--wide")
    assert result.exit_code == 2
    assert "--candidate-col 'Matricule' is not a column (found: Timestamp, Email Address" in (
        result.output
    )


def test_map_must_name_a_column_and_a_bank_question() -> None:
    result = grade(FORMS, "--map", "Nope=keras-05")
    assert result.exit_code == 2
    assert "--map 'Nope': no such question column" in result.output
    result = grade(FORMS, "--map", f"{COMMENTS}=keras-99")
    assert result.exit_code == 2
    assert "has no question 'keras-99'" in result.output


def test_plain_csv_extra_columns_pass_through_to_csv_output(tmp_path: Path) -> None:
    src = tmp_path / "answers.csv"
    src.write_text(
        "id,candidate,question_id,answer,cohort,score\n"
        "a1,alice,keras-05,Dropout zeroes random units while training.,2026-spring,9\n",
        encoding="utf-8",
    )
    out = tmp_path / "grades.csv"
    result = grade(src, "-o", out)
    assert result.exit_code == 0, result.output
    (row,) = read_csv(out)
    assert row["cohort"] == "2026-spring"
    assert row["input.score"] == "9"  # an input column Viva's own columns have, prefixed
    assert row["score"] != "9"
    # Resuming the same file keeps its columns.
    result = grade(src, "-o", out, "--resume")
    assert result.exit_code == 0, result.output
    assert read_csv(out) == [row]


@pytest.mark.slow
def test_real_model_matches_form_titles(real_embedder: Any, keras_bank: Any) -> None:
    """The bundled model matches reworded form titles and refuses to guess a comments box."""
    from viva.app.importing import match_questions

    titles = [
        "Why do we use dropout and what does the layer do during training?",
        "Explain early stopping and how you would set it up in Keras.",
        "How do activation functions affect a neural network?",
        "Describe how transfer learning works in Keras",
        "Sequential vs functional API",
        COMMENTS,
        "Do you agree to share your answers with the class?",
    ]
    matches = match_questions({t: t for t in titles}, keras_bank, real_embedder, {})
    got = {m.title: (m.question_id, m.confirmed) for m in matches}
    assert got[titles[0]] == ("keras-05", True)
    assert got[titles[1]] == ("keras-09", True)
    assert got[titles[2]] == ("keras-03", True)
    assert got[titles[3]] == ("keras-10", True)
    assert got[titles[4]] == ("keras-02", True)
    assert not got[COMMENTS][1]
    assert not got[titles[6]][1]


def test_the_readme_walk_for_teachers_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The five commands of README's "For teachers", on the Forms fixture (unzipped already)."""
    import re
    import shlex

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## For teachers", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 5
    monkeypatch.chdir(tmp_path)
    sheet = tmp_path / "Keras quiz (Responses).csv"
    sheet.write_bytes(FORMS.read_bytes())
    for n, command in enumerate(commands[1:], start=2):
        args = shlex.split(command)
        assert args[0] == "viva"
        result = runner.invoke(app, args[1:])
        assert result.exit_code == (2 if n == 2 else 0), (command, result.output)
    book = read_csv(tmp_path / "moodle-grades.csv")
    assert book[0]["Email address"] == "ana.lopez@school.example"
    assert re.fullmatch(r"\d+(\.\d+)?", book[0]["Keras quiz"])
    assert (tmp_path / "summary.csv").exists()


def test_moodle_assignment_submissions_zip_is_graded(tmp_path: Path) -> None:
    """Moodle's "Download all submissions" of an online-text essay: the zip's name carries the
    assignment's, which is matched to the bank; file submissions are left out."""
    import zipfile

    path = tmp_path / "KERAS101-What problem does dropout solve-4711.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "Ana Lopez_2051_assignsubmission_onlinetext_onlinetext.html",
            "<p>Dropout fights <b>overfitting</b>: during training it randomly sets a fraction "
            "of the inputs to zero.</p>",
        )
        zf.writestr(
            "Ben Okafor_2052_assignsubmission_onlinetext/onlinetext.html", "<p>Faster models.</p>"
        )
        zf.writestr("Ben Okafor_2052_assignsubmission_file/notes.pdf", b"%PDF-1.4")
    out = tmp_path / "grades.jsonl"
    result = grade(path, "-o", out)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert [(r["id"], r["candidate"]) for r in rows] == [
        ("r1/keras-05", "Ana Lopez"),
        ("r2/keras-05", "Ben Okafor"),
    ]
    assert rows[0]["input"]["Participant ID"] == "2051"
    assert rows[0]["score"] > rows[1]["score"]


def test_an_interrupted_sheet_resumes_where_it_stopped(tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    assert grade(FORMS, "--map", SKIP_COMMENTS, "-o", out).exit_code == 0
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:5]) + lines[5][:20], encoding="utf-8")  # killed mid-row
    result = grade(FORMS, "--map", SKIP_COMMENTS, "-o", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "resuming: 4 rows already" in result.output
    assert out.read_text(encoding="utf-8") == full


def test_moodle_gradebook_uses_the_identifier_the_answers_came_with(tmp_path: Path) -> None:
    """An email maps to Moodle's email field; a sheet with only names falls back to usernames."""
    sheet = tmp_path / "long.csv"
    sheet.write_text(
        "who,question_id,answer\njdoe,keras-05,Dropout zeroes random units while training.\n",
        encoding="utf-8",
    )
    grades, book = tmp_path / "g.jsonl", tmp_path / "m.csv"
    assert grade(sheet, "--candidate-col", "who", "-o", grades).exit_code == 0
    args = ["gradebook", str(grades), "--to", "moodle", "--points", "10", "-o", str(book)]
    assert runner.invoke(app, args).exit_code == 0
    (row,) = read_csv(book)
    assert row["Username"] == "jdoe"
