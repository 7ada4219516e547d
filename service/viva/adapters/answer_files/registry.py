"""Choosing a reader or writer: by the name a user gives, else by the file's suffix.

Several formats can share a suffix (a Moodle export and a Google Forms export are both `.csv`),
so the name always wins and the suffix is only the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from viva.errors import InvalidInputError

T = TypeVar("T")


def pick(
    table: Mapping[str, T],
    suffixes: Mapping[str, str],
    path: Path,
    name: str | None,
    what: str,
) -> T:
    """The entry `name` names, else the one for `path`'s suffix; the error lists every choice."""
    if name is not None:
        found = table.get(name.lower())
        if found is None:
            raise InvalidInputError(f"unknown {what} format {name!r}; {_known(table, suffixes)}")
        return found
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise InvalidInputError(
            f"{path}: unknown {what} format {suffix or '(no suffix)'}; {_known(table, suffixes)}"
        )
    return table[suffixes[suffix]]


def known_formats(table: Mapping[str, object], suffixes: Mapping[str, str]) -> str:
    return _known(table, suffixes)


def _known(table: Mapping[str, object], suffixes: Mapping[str, str]) -> str:
    def entry(name: str) -> str:
        own = [s for s, n in suffixes.items() if n == name]
        return f"{name} ({', '.join(own)})" if own else name

    return "known formats: " + ", ".join(entry(n) for n in table)
