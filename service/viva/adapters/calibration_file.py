"""Reading and writing calibration JSON files (the core only sees `Calibration` objects)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from viva.core.calibration import Calibration
from viva.core.guards import SentenceHead
from viva.errors import ConfigError


def load_calibration(path: Path | None = None) -> Calibration:
    """The given file, or the calibration Viva ships (fitted on the public ASAG data)."""
    try:
        if path is None:
            text = resources.files("viva").joinpath("data/calibration.json").read_text("utf-8")
            source = "built-in calibration"
        else:
            text = Path(path).read_text(encoding="utf-8")
            source = str(path)
    except FileNotFoundError:
        if path is None:
            return Calibration()
        raise ConfigError(f"{path}: calibration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read calibration: {exc}") from None
    try:
        return Calibration.from_dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: invalid calibration: {exc}") from None


def save_calibration(calibration: Calibration, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(calibration.to_dict(), indent=2) + "\n", encoding="utf-8")


def load_injection_head(path: Path | None = None) -> SentenceHead | None:
    """The given file, or the injection head Viva ships (`viva fit-guard`); None when the
    package carries none, so a build without it still grades (with the other two guards)."""
    return _load_head(path, "injection_head.json", "injection head")


def load_vague_head(path: Path | None = None) -> SentenceHead | None:
    """The given file, or the vagueness head Viva ships (`viva fit-vague`); None when the
    package carries none (the word rule still flags filler)."""
    return _load_head(path, "vague_head.json", "vagueness head")


def _load_head(path: Path | None, builtin: str, what: str) -> SentenceHead | None:
    try:
        if path is None:
            text = resources.files("viva").joinpath(f"data/{builtin}").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is None:
            return None
        raise ConfigError(f"{path}: {what} file not found") from None
    try:
        return SentenceHead.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"{path or f'built-in {what}'}: invalid: {exc}") from None


def save_head(head: SentenceHead, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(head.to_dict()) + "\n", encoding="utf-8")
