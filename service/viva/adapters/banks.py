"""Question banks from YAML files, validated, with errors that name file, question and field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from viva.domain.models import Bank
from viva.errors import BankNotFoundError, BankValidationError


def _describe(data: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into 'question keras-03, points[1].weight'."""
    parts: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if key == "questions" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = int(loc[i + 1])
            qid = None
            if isinstance(node, dict) and isinstance(node.get("questions"), list):
                qs = node["questions"]
                if idx < len(qs) and isinstance(qs[idx], dict):
                    qid = qs[idx].get("id")
                    node = qs[idx]
            parts.append(f"question {qid}" if qid else f"question #{idx + 1}")
            i += 2
            continue
        if isinstance(key, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{key}]"]
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
        i += 1
    out: list[str] = []
    for p in parts:
        if out and p.startswith("["):
            out[-1] += p
        else:
            out.append(p)
    field_path = ".".join(x for x in out if not x.startswith("question "))
    questions = [x for x in out if x.startswith("question ")]
    return ", ".join([*questions, f"field {field_path}" if field_path else "top level"])


def parse_bank(data: Any, source: str) -> Bank:
    if not isinstance(data, dict):
        raise BankValidationError(f"{source}: a bank must be a YAML mapping with 'questions'")
    try:
        return Bank.model_validate(data)
    except ValidationError as exc:
        errors = _root_causes(exc.errors())
        lines = [f"{source}: {_describe(data, tuple(err['loc']))}: {err['msg']}" for err in errors]
        raise BankValidationError("\n".join(lines)) from None


def _root_causes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop 'at least 1 item after validation' on a list whose items already failed.

    Pydantic counts only the valid items, so one bad point also reports `points` and `questions`
    as empty, which sends the author looking for a problem that is not there.
    """
    locs = [tuple(e["loc"]) for e in errors]

    def _has_inner_error(loc: tuple[int | str, ...]) -> bool:
        return any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)

    return [e for e in errors if not (e["type"] == "too_short" and _has_inner_error(e["loc"]))]


def load_bank_file(path: Path) -> Bank:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BankValidationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise BankValidationError(f"{path}:{where} invalid YAML: {exc}") from None
    return parse_bank(data, str(path))


def bank_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            files.append(p)
    return files


class BankRepository:
    """Every bank in one or more folders, loaded and validated; `reload` swaps in a fresh set
    only when all of it is valid, so a bad edit never takes banks away from a running server.

    `overlay` adds what a deployment learned to a bank as `get` returns it for grading (the
    graded examples from human review, viva.app.human_review); `all` lists the files as written.
    """

    def __init__(
        self,
        directories: Path | Sequence[Path],
        *,
        overlay: Callable[[Bank], Bank] | None = None,
    ) -> None:
        self.directories = [directories] if isinstance(directories, Path) else list(directories)
        self.overlay = overlay
        self._banks: dict[str, Bank] = self._load()

    @property
    def directory(self) -> Path:
        return self.directories[0]

    def _load(self) -> dict[str, Bank]:
        banks: dict[str, Bank] = {}
        where: dict[str, Path] = {}
        for f in bank_files(self.directories):
            bank = load_bank_file(f)
            if bank.id in banks:
                raise BankValidationError(
                    f"{f}: bank id {bank.id!r} is defined twice (also in {where[bank.id]}); "
                    "a folder adds banks, it does not replace them: give it another id"
                )
            banks[bank.id] = bank
            where[bank.id] = f
        return banks

    def reload(self) -> list[Bank]:
        """Read every folder again; raises BankValidationError and keeps the old banks when
        any file is invalid."""
        self._banks = self._load()  # one assignment: readers see the old set or the new one
        return self.all()

    def get(self, bank_id: str, *, overlay: bool = True) -> Bank:
        """The bank as graded (`overlay=False`: as its file says, e.g. to snapshot it)."""
        try:
            bank = self._banks[bank_id]
        except KeyError:
            known = ", ".join(sorted(self._banks)) or "none"
            raise BankNotFoundError(f"no question bank {bank_id!r} (known: {known})") from None
        return self.overlay(bank) if overlay and self.overlay is not None else bank

    def all(self) -> list[Bank]:
        banks = self._banks
        return [banks[k] for k in sorted(banks)]
