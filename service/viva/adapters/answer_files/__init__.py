"""Answer files: named input readers and output writers for `viva grade` and library callers.

Pick one by name (`READERS["csv"]`, `writer_for(path, "md")`) or, by default, by file suffix.
"""

from viva.adapters.answer_files.readers import (
    KNOWN,
    READERS,
    REQUIRED,
    RawRow,
    Reader,
    read_csv,
    read_jsonl,
    read_rows,
    reader_for,
)
from viva.adapters.answer_files.writers import (
    CSV_COLUMNS,
    WRITERS,
    ReportWriter,
    RowSink,
    StreamWriter,
    Writer,
    writer_for,
)

__all__ = [
    "CSV_COLUMNS",
    "KNOWN",
    "READERS",
    "REQUIRED",
    "WRITERS",
    "RawRow",
    "Reader",
    "ReportWriter",
    "RowSink",
    "StreamWriter",
    "Writer",
    "read_csv",
    "read_jsonl",
    "read_rows",
    "reader_for",
    "writer_for",
]
