"""Tables from the files teachers have: CSV in any encoding Excel or a platform writes, and XLSX.

A table is a header and its rows, each a list of cell texts, read lazily. CSV encodings are told
apart by their byte-order mark (UTF-8 with or without one, UTF-16 as Excel's "Unicode text"
writes it); XLSX is read with openpyxl, never by hand. A Moodle assignment's submissions zip
is read as a table too: one row per student's online text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from viva.errors import InvalidInputError

XLSX_SUFFIXES = (".xlsx", ".xlsm")


def encoding_of(path: Path) -> str:
    """The text encoding a file's byte-order mark names; UTF-8 (BOM optional) without one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in XLSX_SUFFIXES


def _cell(value: Any) -> str:
    """A cell as the text a person sees: whole numbers without `.0`, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise InvalidInputError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if cells:
                yield cells
    finally:
        book.close()


def table_delimiter(sample: str) -> str:
    """`,`, `;` or a tab: the one that splits every row of the sample into as many columns as
    the header, leaving no stray quote or tab inside a cell, into the most columns (question titles
    hold commas and semicolons, so counting characters alone can guess wrong); else
    csv.Sniffer's guess."""
    from viva.adapters.answer_files.readers import sniff_delimiter

    best: tuple[int, int, str] | None = None  # (cells with a quote, -columns, delimiter)
    for d in (",", ";", "\t"):
        try:
            rows = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=d), 21))
        except csv.Error:
            continue
        if len(rows) > 2:
            rows = rows[:-1]  # the sample may end inside the last row
        width = len(rows[0]) if rows else 0
        if width < 2 or any(len(r) != width for r in rows[1:] if r):
            continue
        # A cell holding a quote or a tab was most likely split by the wrong delimiter.
        stray = sum('"' in cell or "\t" in cell for r in rows for cell in r)
        score = (stray, -width, d)
        if best is None or score[:2] < best[:2]:
            best = score
    return best[2] if best else sniff_delimiter(sample)


def _csv_rows(path: Path, delimiter: str | None) -> Iterator[list[str]]:
    try:
        with path.open(encoding=encoding_of(path), newline="") as fh:
            if delimiter is None:
                delimiter = table_delimiter(fh.read(64 * 1024))
                fh.seek(0)
            for n, cells in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
                if any(c.strip() for c in cells):
                    yield cells
                elif n == 1:
                    raise InvalidInputError(f"{path}: the first line (the header) is empty")
    except UnicodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 or UTF-16 text ({exc})") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{path}: not valid CSV: {exc}") from None


_ONLINETEXT = re.compile(
    r"(?:^|/)(?P<name>[^/]+?)_(?P<pid>\d+)_assignsubmission_onlinetext[_/]+onlinetext\.html$"
)
_ZIP_NAME = re.compile(r"^[^-]+-(?P<name>.+)-\d+$")
MAX_SUBMISSION_BYTES = 1_000_000
"""An online text larger than this is cut (a zip can claim any size)."""


def _submission_rows(path: Path) -> Iterator[list[str]]:
    """A Moodle assignment's "Download all submissions" zip as a Responses-report-like table:
    one row per online text, its assignment name (from the zip's name) as the question."""
    m = _ZIP_NAME.match(path.stem)
    title = m.group("name") if m else path.stem
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInputError(f"{path}: not a readable zip ({exc})") from None
    with archive:
        yield ["Full name", "Participant ID", "Question 1", "Response 1"]
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            found = _ONLINETEXT.search(info.filename)
            if not found or info.is_dir():
                continue  # file submissions, feedback files, folders
            with archive.open(info) as fh:
                data = fh.read(MAX_SUBMISSION_BYTES)
            text = data.decode("utf-8", errors="replace")
            yield [found.group("name"), found.group("pid"), title, text]


def table_rows(path: Path, delimiter: str | None = None) -> Iterator[list[str]]:
    """The header, then each non-empty row, of a CSV or XLSX file (the first sheet), or of a
    Moodle assignment's submissions zip."""
    if path.suffix.lower() == ".zip":
        return _submission_rows(path)
    if is_xlsx(path):
        if delimiter is not None:
            raise InvalidInputError("--delimiter is for CSV input; this file is read as XLSX")
        return _xlsx_rows(path)
    return _csv_rows(path, delimiter)


def header_of(path: Path, delimiter: str | None = None) -> list[str]:
    rows = table_rows(path, delimiter)
    try:
        return next(rows, [])
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
