"""Reading and writing calibration JSON files (the core only sees `Calibration` objects)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from viva.core.calibration import Calibration
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
