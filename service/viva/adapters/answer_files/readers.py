"""Input readers: each turns an open answer file into numbered rows, lazily.

A bad row becomes an error entry that names it; only an unreadable file or a missing column
stops the run, because then no row can be graded. `scan_rows` reads a whole file once, in
constant memory, so these are found before any grading starts; `iter_rows` then streams it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from viva.adapters.answer_files.registry import pick
from viva.adapters.answer_files.tables import encoding_of
from viva.errors import InvalidInputError

REQUIRED = ("question_id", "answer")
KNOWN = ("id", "candidate", "question_id", "answer")
MAX_PASSTHROUGH = 200
"""Pass-through fields given their own CSV output column, at most (the rest stay in JSONL)."""
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t"}
"""What `--delimiter` accepts, and the character each means."""


@dataclass
class RawRow:
    row: int  # 1-based data row number (CSV: header not counted; JSONL: line number)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Reader(Protocol):
    """Rows of an open file, one at a time; raises `InvalidInputError` only when no row could
    be graded. `delimiter` is for formats that have one (None: detect it)."""

    def __call__(
        self, fh: TextIO, path: Path, *, delimiter: str | None = None
    ) -> Iterator[RawRow]: ...


def parse_delimiter(value: str) -> str:
    """The delimiter `--delimiter VALUE` means: `,`, `;` or a tab (`tab` or `\\t`)."""
    found = DELIMITERS.get(value.lower())
    if found is None:
        raise InvalidInputError(f"--delimiter takes ',', ';' or 'tab', not {value!r}")
    return found


def detect_delimiter(sample: str) -> str:
    """`,`, `;` or a tab: the one whose header holds the required columns, else csv.Sniffer's
    guess among those three, else a comma (the missing-column error then shows the header)."""
    for d in (",", ";", "\t"):
        header = next(csv.reader(io.StringIO(sample), delimiter=d), [])
        if all(c in header for c in REQUIRED):
            return d
    return sniff_delimiter(sample)


def sniff_delimiter(sample: str) -> str:
    """csv.Sniffer's guess among `,`, `;` and a tab, else a comma."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def read_csv(fh: TextIO, path: Path, *, delimiter: str | None = None) -> Iterator[RawRow]:
    if delimiter is None:
        delimiter = detect_delimiter(fh.read(64 * 1024))
        fh.seek(0)
    try:
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: not valid CSV: {exc}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        shown = {",": "comma", ";": "semicolon", "\t": "tab"}.get(delimiter, repr(delimiter))
        raise InvalidInputError(
            f"{path}: missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(header) or 'none'}; read with a {shown} delimiter). "
            "A sheet with one column per question: --format google-forms, moodle, canvas or "
            "wide; other column names: --question-col and --answer-col"
        )
    n = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            n += 1
            yield RawRow(n, error=f"row {n}: not valid CSV: {exc}")
            continue
        n += 1
        extra = rec.pop(None, None)
        if extra:
            yield RawRow(n, dict(rec), error=f"row {n}: more fields than the header has")
            continue
        yield RawRow(n, {k: v for k, v in rec.items() if v is not None})


def read_jsonl(fh: TextIO, path: Path, *, delimiter: str | None = None) -> Iterator[RawRow]:
    if delimiter is not None:
        raise InvalidInputError("--delimiter is for CSV input; this file is read as JSONL")
    for n, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawRow(n, error=f"line {n}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield RawRow(n, error=f"line {n}: expected a JSON object")
            continue
        yield RawRow(n, obj)


READERS: dict[str, Reader] = {"jsonl": read_jsonl, "csv": read_csv}
"""Input formats by name; `viva grade --format NAME` picks one."""

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
"""The format a suffix means when no name is given."""


def reader_for(path: Path, name: str | None = None) -> Reader:
    return pick(READERS, SUFFIXES, path, name, "input")


def iter_rows(
    path: Path, fmt: str | None = None, *, delimiter: str | None = None
) -> Iterator[RawRow]:
    """The rows of `path`, read one at a time (format `fmt`, default: by suffix); an unreadable
    file raises `InvalidInputError`. Memory stays flat on any file size."""
    reader = reader_for(path, fmt)
    try:
        with path.open(encoding=encoding_of(path), newline="") as fh:
            yield from reader(fh, path, delimiter=delimiter)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except UnicodeError as exc:  # UTF-16 cut short
        raise InvalidInputError(f"{path}: not UTF-16 text ({exc})") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def scan_rows(
    path: Path,
    fmt: str | None = None,
    *,
    delimiter: str | None = None,
    columns: list[str] | None = None,
) -> int:
    """How many rows `path` has, read once in constant memory; raises `InvalidInputError` for
    what would stop the run: an unreadable or empty file, a missing column, and rows that are
    all valid but none of which has one of the required fields.

    `columns`, if given, gets the pass-through fields (not in `KNOWN`) in first-seen order, so a
    CSV output can give each its column."""
    return count_rows(iter_rows(path, fmt, delimiter=delimiter), path, columns)


def count_rows(rows: Iterable[RawRow], path: Path, columns: list[str] | None = None) -> int:
    """`scan_rows` over rows from any reader or importer."""
    total = 0
    all_valid = True
    seen: set[str] = set()  # the required fields some row has
    keys: set[str] = set()  # every field, for the message (at most the first 100)
    extra: dict[str, None] = {}
    for r in rows:
        total += 1
        if columns is not None and len(extra) < MAX_PASSTHROUGH:
            extra.update((k, None) for k in r.data if k not in KNOWN)
        all_valid = all_valid and r.error is None
        if len(seen) < len(REQUIRED):
            seen.update(c for c in REQUIRED if c in r.data)
        if len(keys) < 100:
            keys.update(r.data)
    if columns is not None:
        columns.extend(extra)
    if total == 0:
        raise InvalidInputError(f"{path}: no rows to grade")
    missing = [c for c in REQUIRED if c not in seen]
    if all_valid and missing:
        raise InvalidInputError(
            f"{path}: missing field(s) {', '.join(missing)} in every row "
            f"(found: {', '.join(sorted(keys)) or 'none'})"
        )
    return total


def read_rows(path: Path, fmt: str | None = None, *, delimiter: str | None = None) -> list[RawRow]:
    """All rows of `path` in a list, for small files and library callers (`viva grade` streams
    with `scan_rows` and `iter_rows` instead)."""
    scan_rows(path, fmt, delimiter=delimiter)
    return list(iter_rows(path, fmt, delimiter=delimiter))
