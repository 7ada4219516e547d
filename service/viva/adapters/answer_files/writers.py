"""Output writers, by name: streams of graded rows (JSONL, CSV) and reports (Markdown, HTML).

A stream writer gets each batch as it finishes and flushes it, so an interrupted run keeps what
it graded, and can name what an earlier run wrote (`written`) so `--resume` appends the rest; a
report writer needs the whole run, grouped by candidate, and writes once at the end.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TextIO, runtime_checkable

from viva.adapters.answer_files.registry import pick
from viva.errors import InvalidInputError

if TYPE_CHECKING:
    from viva.domain.models import Report

Record = Mapping[str, Any]


class RowSink(Protocol):
    def write(self, records: Sequence[Record]) -> None:
        """Append these graded records and flush them to disk."""


@dataclass
class Written:
    """What an earlier, interrupted run left in an output file."""

    ids: Counter[str] = field(default_factory=Counter)  # row id -> how many rows carry it
    rows: int = 0
    failed: int = 0  # rows written with an error instead of a grade


@runtime_checkable
class StreamWriter(Protocol):
    """Writes graded records (`GradedRow.record()`) as each batch finishes."""

    def open(
        self, path: Path, *, append: bool = False, columns: Sequence[str] = ()
    ) -> AbstractContextManager[RowSink]:
        """`columns`: the input's pass-through fields, each given its own CSV column (a file
        being resumed keeps the columns its header has)."""

    def written(self, path: Path) -> Written:
        """The rows already in `path` (none if it does not exist). A last row cut short by a
        kill is removed from the file, so that appending continues on a clean line."""


@runtime_checkable
class ReportWriter(Protocol):
    """Writes per-candidate reports once the whole run is graded."""

    def write(self, path: Path, reports: Iterable[Report], title: str) -> None:
        """`reports` may be a generator: Markdown is written one candidate at a time."""


Writer = StreamWriter | ReportWriter


class _Stream:
    """An open output file; each `write` appends a batch and flushes it."""

    def __init__(self, fh: TextIO, columns: Sequence[str] = ()) -> None:
        self.fh = fh

    def write(self, records: Sequence[Record]) -> None:
        for r in records:
            self._row(r)
        self.fh.flush()

    def _row(self, record: Record) -> None:
        raise NotImplementedError


class _JsonlStream(_Stream):
    def _row(self, record: Record) -> None:
        self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")


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


def passthrough_column(name: str) -> str:
    """The CSV output column of an input field: its own name, unless Viva's columns have it."""
    return f"input.{name}" if name in CSV_COLUMNS or name.startswith("input.") else name


class _CsvStream(_Stream):
    """One line per row; points, misconceptions and flags become space-separated ids; the
    input's other columns follow Viva's, under their own names."""

    def __init__(self, fh: TextIO, columns: Sequence[str] = ()) -> None:
        super().__init__(fh)
        self.inputs = {passthrough_column(c): c for c in columns}
        self.writer = csv.DictWriter(
            fh, fieldnames=[*CSV_COLUMNS, *self.inputs], extrasaction="ignore"
        )
        if fh.tell() == 0:  # appending (--resume) to a file that has its header already
            self.writer.writeheader()

    def _row(self, record: Record) -> None:
        pts = record.get("points") or []
        given = record.get("input") or {}
        self.writer.writerow(
            {
                **record,
                **{col: _text(given.get(name)) for col, name in self.inputs.items()},
                "covered": " ".join(p["id"] for p in pts if p["covered"]),
                "missed": " ".join(p["id"] for p in pts if not p["covered"]),
                "misconceptions": " ".join(
                    m["id"] for m in record.get("misconceptions") or [] if m["triggered"]
                ),
                "flags": " ".join(record.get("flags") or []),
            }
        )


def _text(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _complete_records(fh: BinaryIO, quoted: bool) -> Iterator[tuple[int, bytes]]:
    """Each newline-terminated record and the offset just past it; a last record with no
    newline (or, for CSV, inside an open quote) is incomplete and left out."""
    record = b""
    end = 0
    for line in fh:
        record += line
        if not line.endswith(b"\n") or (quoted and record.count(b'"') % 2):
            continue
        end += len(record)
        yield end, record
        record = b""


def _jsonl_record(line: str, header: list[str] | None) -> dict[str, Any]:
    obj = json.loads(line)
    if not isinstance(obj, dict) or "id" not in obj:
        raise ValueError("not a graded row")
    return obj


def _csv_record(line: str, header: list[str] | None) -> dict[str, Any]:
    fields = next(csv.reader([line]), [])
    if header is None or len(fields) != len(header):
        raise ValueError("not a graded row")
    return dict(zip(header, fields, strict=True))


class _StreamFile:
    def __init__(self, stream: type[_Stream], name: str) -> None:
        self.stream = stream
        self.name = name

    @contextmanager
    def open(
        self, path: Path, *, append: bool = False, columns: Sequence[str] = ()
    ) -> Iterator[RowSink]:
        if append and self.name == "csv":
            columns = self._input_columns(path, columns)
        with path.open("a" if append else "w", encoding="utf-8", newline="") as fh:
            yield self.stream(fh, columns)

    def _input_columns(self, path: Path, columns: Sequence[str]) -> Sequence[str]:
        """The pass-through columns an existing CSV's header has (resuming keeps its shape)."""
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh), None)
        except FileNotFoundError:
            return columns
        if not header:
            return columns
        return [c.removeprefix("input.") for c in header[len(CSV_COLUMNS) :]]

    def written(self, path: Path) -> Written:
        done = Written()
        is_csv = self.name == "csv"
        parse = _csv_record if is_csv else _jsonl_record
        header: list[str] | None = None
        end = 0
        try:
            with path.open("r+b") as fh:
                for n, (stop, raw) in enumerate(_complete_records(fh, is_csv), start=1):
                    end = stop
                    try:
                        line = raw.decode("utf-8")
                        if is_csv and header is None:
                            header = next(csv.reader([line]), [])
                            if header[: len(CSV_COLUMNS)] != CSV_COLUMNS:
                                raise ValueError("not a header Viva writes")
                            continue
                        rec = parse(line, header)
                    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError included
                        raise InvalidInputError(
                            f"{path}: record {n} is not a Viva {self.name} row ({exc}), so "
                            "the run cannot be resumed; choose another --output"
                        ) from None
                    done.ids[str(rec["id"])] += 1
                    done.rows += 1
                    done.failed += bool(rec.get("error"))
                fh.truncate(end)  # drop a last row cut short
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise InvalidInputError(f"{path}: cannot resume: {exc.strerror or exc}") from None
        return done


class MarkdownReport:
    def render(self, reports: Sequence[Report], title: str) -> str:
        """One Markdown report per candidate, separated by rules (`title` is not shown)."""
        from viva.reports.render import render_markdown

        return "\n\n---\n\n".join(render_markdown(r) for r in reports)

    def write(self, path: Path, reports: Iterable[Report], title: str) -> None:
        from viva.reports.render import render_markdown

        with path.open("w", encoding="utf-8") as fh:
            for n, report in enumerate(reports):
                fh.write(("\n\n---\n\n" if n else "") + render_markdown(report))


class HtmlReport:
    def render(self, reports: Sequence[Report], title: str) -> str:
        from viva.reports.render import render_html

        return render_html(reports, title=title)

    def write(self, path: Path, reports: Iterable[Report], title: str) -> None:
        # One page from one template: every candidate's report is held while it renders.
        path.write_text(self.render(list(reports), title), encoding="utf-8")


JSONL: StreamWriter = _StreamFile(_JsonlStream, "jsonl")
CSV: StreamWriter = _StreamFile(_CsvStream, "csv")

WRITERS: dict[str, Writer] = {
    "jsonl": JSONL,
    "csv": CSV,
    "md": MarkdownReport(),
    "html": HtmlReport(),
}
"""Output formats by name; `viva grade --output-format NAME` picks one."""

SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".md": "md", ".html": "html"}
"""The format an output suffix means when no name is given."""


def writer_for(path: Path, name: str | None = None) -> Writer:
    return pick(WRITERS, SUFFIXES, path, name, "output")
