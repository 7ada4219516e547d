"""Gradebook files: a run's grades read back, and written as a platform's gradebook imports them.

- summary: one row per candidate, their pass-through fields, the mean score, the points and the
  score on each question.
- moodle: Moodle's grade import CSV (Grades > Import > CSV file): an identifier column to map
  to a user field (email address, else username or ID number), the grade item's column and a
  feedback column.
- canvas: Canvas's gradebook CSV (Grades > Import): `Student, ID, SIS User ID, SIS Login ID,
  Section`, a `Points Possible` row, then the assignment's column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from viva.adapters.answer_files.tables import encoding_of
from viva.adapters.answer_files.writers import CSV_COLUMNS
from viva.errors import InvalidInputError

if TYPE_CHECKING:
    from viva.app.gradebook import Totals

GRADEBOOKS = ("summary", "moodle", "canvas")


def read_graded(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a `viva grade` output (.jsonl, or .csv with its pass-through columns)."""
    try:
        with path.open(encoding=encoding_of(path), newline="") as fh:
            if path.suffix.lower() == ".csv":
                yield from _csv_records(fh, path)
                return
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    raise InvalidInputError(f"{path}: line {n} is not JSON") from None
                if isinstance(rec, dict):
                    yield rec
    except UnicodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc})") from None


def _csv_records(fh: TextIO, path: Path) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(fh)
    header = reader.fieldnames or []
    if list(header[: len(CSV_COLUMNS)]) != CSV_COLUMNS:
        raise InvalidInputError(f"{path}: not a CSV that `viva grade -o FILE.csv` wrote")
    extra = header[len(CSV_COLUMNS) :]
    for rec in reader:
        out: dict[str, Any] = {c: rec.get(c) for c in CSV_COLUMNS}
        out["input"] = {c.removeprefix("input."): rec.get(c) or "" for c in extra}
        yield out


def _identity(t: Any) -> tuple[str, str]:
    """Moodle's identifier for a candidate: (column name, value)."""
    email = t.field("email address", "email", "moodle_email address")
    if email or "@" in t.candidate:
        return "Email address", email or t.candidate
    user = t.field("username")
    if user:
        return "Username", user
    idn = t.field("id number", "student id", "student number")
    if idn:
        return "ID number", idn
    return "Username", t.candidate  # no identifier came with the answers: the candidate's name


def _summary(fh: TextIO, totals: Totals, points: float, item: str) -> None:
    fields = list(dict.fromkeys(k for t in totals.candidates for k in t.fields))
    w = csv.writer(fh)
    w.writerow(
        [
            "candidate",
            *fields,
            "questions",
            "graded",
            "failed",
            "score",
            "points",
            *totals.questions,
        ]
    )
    for t in totals.candidates:
        graded = sum(1 for s in t.scores.values() if s is not None)
        w.writerow(
            [
                t.candidate,
                *(t.fields.get(f, "") for f in fields),
                len(totals.questions),
                graded,
                t.failed,
                f"{t.score(totals.questions):.4f}",
                t.points(totals.questions, points),
                *(_score(t.scores.get(q)) for q in totals.questions),
            ]
        )


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _moodle(fh: TextIO, totals: Totals, points: float, item: str) -> None:
    w = csv.writer(fh)
    col = _identity(totals.candidates[0])[0] if totals.candidates else "Email address"
    w.writerow([col, item, f"Feedback for {item}"])
    for t in totals.candidates:
        graded = sum(1 for s in t.scores.values() if s is not None)
        note = f"Viva: {graded} of {len(totals.questions)} questions graded"
        w.writerow([_identity(t)[1], t.points(totals.questions, points), note])


def _canvas(fh: TextIO, totals: Totals, points: float, item: str) -> None:
    w = csv.writer(fh)
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", item])
    w.writerow(["    Points Possible", "", "", "", "", f"{points:g}"])
    for t in totals.candidates:
        name = t.field("canvas_name", "name", "full name", "your name") or t.candidate
        w.writerow(
            [
                name,
                t.field("canvas_id", "id"),
                t.field("sis_id", "sis user id", "student id"),
                t.field("sis login id", "email address", "email"),
                t.field("section"),
                t.points(totals.questions, points),
            ]
        )


WRITERS: dict[str, Callable[[TextIO, Totals, float, str], None]] = {
    "summary": _summary,
    "moodle": _moodle,
    "canvas": _canvas,
}


def write_gradebook(path: Path, kind: str, totals: Totals, points: float, item: str) -> None:
    write = WRITERS.get(kind)
    if write is None:
        raise InvalidInputError(f"unknown gradebook {kind!r}; known: {', '.join(GRADEBOOKS)}")
    with path.open("w", encoding="utf-8", newline="") as fh:
        write(fh, totals, points, item)
