"""Answer files: named input readers and output writers for `viva grade` and library callers.

Pick one by name (`READERS["csv"]`, `writer_for(path, "md")`) or, by default, by file suffix.
"""

from viva.adapters.answer_files.readers import (
    DELIMITERS,
    KNOWN,
    READERS,
    REQUIRED,
    RawRow,
    Reader,
    count_rows,
    detect_delimiter,
    iter_rows,
    parse_delimiter,
    read_csv,
    read_jsonl,
    read_rows,
    reader_for,
    scan_rows,
)
from viva.adapters.answer_files.readers import SUFFIXES as READER_SUFFIXES
from viva.adapters.answer_files.spool import Spool
from viva.adapters.answer_files.writers import (
    CSV_COLUMNS,
    WRITERS,
    ReportWriter,
    RowSink,
    StreamWriter,
    Writer,
    Written,
    writer_for,
)

__all__ = [
    "CSV_COLUMNS",
    "DELIMITERS",
    "KNOWN",
    "READERS",
    "READER_SUFFIXES",
    "REQUIRED",
    "WRITERS",
    "RawRow",
    "Reader",
    "ReportWriter",
    "RowSink",
    "Spool",
    "StreamWriter",
    "Writer",
    "Written",
    "count_rows",
    "detect_delimiter",
    "iter_rows",
    "parse_delimiter",
    "read_csv",
    "read_jsonl",
    "read_rows",
    "reader_for",
    "scan_rows",
    "writer_for",
]
