"""A spool for reports: graded records parked in a temporary file, read back grouped by key.

A Markdown report over a million rows then holds one candidate's rows at a time, not the run.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator
from types import TracebackType
from typing import Any


class Spool:
    def __init__(self) -> None:
        # Deleted on close, and by the OS even after a kill (POSIX): closed in `close`.
        self._fh = tempfile.TemporaryFile("w+b")  # noqa: SIM115
        self._offsets: dict[str, array[int]] = {}

    def add(self, key: str, record: dict[str, Any]) -> None:
        self._fh.seek(0, 2)
        offset = self._fh.tell()
        self._fh.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self._offsets.setdefault(key, array("q")).append(offset)

    def groups(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Each key (sorted) with its records, in the order they were added."""
        self._fh.flush()
        for key in sorted(self._offsets):
            records = []
            for offset in self._offsets[key]:
                self._fh.seek(offset)
                records.append(json.loads(self._fh.readline()))
            yield key, records

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
