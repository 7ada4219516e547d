"""Reading answer files (CSV or JSONL) row by row, and writing graded rows.

A bad row becomes an error entry that names it; only an unreadable file or a missing column
stops the run, because then no row can be graded.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from viva.errors import InvalidInputError

REQUIRED = ("question_id", "answer")
KNOWN = ("id", "candidate", "question_id", "answer")


@dataclass
class RawRow:
    row: int  # 1-based data row number (CSV: header not counted; JSONL: line number)
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InvalidInputError(
        f"{path}: unknown input format {suffix or '(none)'}; use .jsonl or .csv"
    )


def read_rows(path: Path) -> list[RawRow]:
    fmt = _format(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(_read_jsonl(fh, path) if fmt == "jsonl" else _read_csv(fh, path))
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


def _read_csv(fh: TextIO, path: Path) -> Iterator[RawRow]:
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


def _read_jsonl(fh: TextIO, path: Path) -> Iterator[RawRow]:
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


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


CSV_COLUMNS = [
    "row",
    "id",
    "candidate",
    "question_id",
    "score",
    "covered",
    "missed",
    "misconceptions",
    "flags",
    "bank_id",
    "bank_version",
    "model",
    "calibration",
    "feedback_status",
    "error",
]


def write_csv(path: Path, records: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        write_csv_rows(w, records)


def write_csv_rows(writer: csv.DictWriter[str], records: Sequence[dict[str, Any]]) -> None:
    for r in records:
        pts = r.get("points") or []
        writer.writerow(
            {
                **r,
                "covered": " ".join(p["id"] for p in pts if p["coverage"] >= 0.5),
                "missed": " ".join(p["id"] for p in pts if p["coverage"] < 0.5),
                "misconceptions": " ".join(
                    m["id"] for m in r.get("misconceptions") or [] if m["triggered"]
                ),
                "flags": " ".join(r.get("flags") or []),
            }
        )
