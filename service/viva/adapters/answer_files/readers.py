"""Input readers: each turns an open answer file into numbered rows.

A bad row becomes an error entry that names it; only an unreadable file or a missing column
stops the run, because then no row can be graded.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from viva.adapters.answer_files.registry import pick
from viva.errors import InvalidInputError

REQUIRED = ("question_id", "answer")
KNOWN = ("id", "candidate", "question_id", "answer")


@dataclass
class RawRow:
    row: int  # 1-based data row number (CSV: header not counted; JSONL: line number)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Reader(Protocol):
    """Rows of an open file; raises `InvalidInputError` only when no row could be graded."""

    def __call__(self, fh: TextIO, path: Path) -> Iterator[RawRow]: ...


def read_csv(fh: TextIO, path: Path) -> Iterator[RawRow]:
    try:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: not valid CSV: {exc}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInputError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'})"
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


def read_jsonl(fh: TextIO, path: Path) -> Iterator[RawRow]:
    seen_required = False
    rows: list[RawRow] = []
    for n, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(RawRow(n, error=f"line {n}: invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            rows.append(RawRow(n, error=f"line {n}: expected a JSON object"))
            continue
        seen_required = seen_required or all(c in obj for c in REQUIRED)
        rows.append(RawRow(n, obj))
    if rows and not seen_required and all(r.error is None for r in rows):
        keys = sorted({k for r in rows for k in r.data})
        missing = [c for c in REQUIRED if not any(c in r.data for r in rows)]
        if missing:
            raise InvalidInputError(
                f"{path}: missing field(s) {', '.join(missing)} in every row "
                f"(found: {', '.join(keys) or 'none'})"
            )
    yield from rows


READERS: dict[str, Reader] = {"jsonl": read_jsonl, "csv": read_csv}
"""Input formats by name; `viva grade --format NAME` picks one."""

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
"""The format a suffix means when no name is given."""


def reader_for(path: Path, name: str | None = None) -> Reader:
    return pick(READERS, SUFFIXES, path, name, "input")


def read_rows(path: Path, fmt: str | None = None) -> list[RawRow]:
    """All rows of `path`, read as format `fmt` (default: by suffix)."""
    reader = reader_for(path, fmt)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(reader(fh, path))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not rows:
        raise InvalidInputError(f"{path}: no rows to grade")
    return rows
