"""Output writers, by name: streams of graded rows (JSONL, CSV) and reports (Markdown, HTML).

A stream writer gets each batch as it finishes and flushes it, so an interrupted run keeps what
it graded; a report writer needs the whole run, grouped by candidate, and writes once at the end.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

from viva.adapters.answer_files.registry import pick

if TYPE_CHECKING:
    from viva.domain.models import Report

Record = Mapping[str, Any]


class RowSink(Protocol):
    def write(self, records: Sequence[Record]) -> None:
        """Append these graded records and flush them to disk."""


@runtime_checkable
class StreamWriter(Protocol):
    """Writes graded records (`GradedRow.record()`) as each batch finishes."""

    def open(self, path: Path) -> AbstractContextManager[RowSink]: ...


@runtime_checkable
class ReportWriter(Protocol):
    """Writes per-candidate reports once the whole run is graded."""

    def write(self, path: Path, reports: Sequence[Report], title: str) -> None: ...


Writer = StreamWriter | ReportWriter


class _Stream:
    """An open output file; each `write` appends a batch and flushes it."""

    def __init__(self, fh: TextIO) -> None:
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


class _CsvStream(_Stream):
    """One line per row; points, misconceptions and flags become space-separated ids."""

    def __init__(self, fh: TextIO) -> None:
        super().__init__(fh)
        self.writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        self.writer.writeheader()

    def _row(self, record: Record) -> None:
        pts = record.get("points") or []
        self.writer.writerow(
            {
                **record,
                "covered": " ".join(p["id"] for p in pts if p["covered"]),
                "missed": " ".join(p["id"] for p in pts if not p["covered"]),
                "misconceptions": " ".join(
                    m["id"] for m in record.get("misconceptions") or [] if m["triggered"]
                ),
                "flags": " ".join(record.get("flags") or []),
            }
        )


class _StreamFile:
    def __init__(self, stream: type[_Stream]) -> None:
        self.stream = stream

    @contextmanager
    def open(self, path: Path) -> Iterator[RowSink]:
        with path.open("w", encoding="utf-8", newline="") as fh:
            yield self.stream(fh)


class MarkdownReport:
    def render(self, reports: Sequence[Report], title: str) -> str:
        """One Markdown report per candidate, separated by rules (`title` is not shown)."""
        from viva.reports.render import render_markdown

        return "\n\n---\n\n".join(render_markdown(r) for r in reports)

    def write(self, path: Path, reports: Sequence[Report], title: str) -> None:
        path.write_text(self.render(reports, title), encoding="utf-8")


class HtmlReport:
    def render(self, reports: Sequence[Report], title: str) -> str:
        from viva.reports.render import render_html

        return render_html(reports, title=title)

    def write(self, path: Path, reports: Sequence[Report], title: str) -> None:
        path.write_text(self.render(reports, title), encoding="utf-8")


JSONL: StreamWriter = _StreamFile(_JsonlStream)
CSV: StreamWriter = _StreamFile(_CsvStream)

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
