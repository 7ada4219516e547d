"""The composition root: builds the grader and bank repository from settings, once per process.

Both edges (CLI and HTTP API) get their collaborators from here, so they grade identically.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from viva.adapters.banks import BankRepository
from viva.adapters.calibration_file import load_calibration
from viva.core.grader import Grader
from viva.settings import Settings, get_settings

_lock = threading.Lock()
_graders: dict[tuple[str, str, str], Grader] = {}


def get_grader(settings: Settings | None = None) -> Grader:
    from viva.adapters.embedder import get_embedder  # torch: only when grading is needed

    s = settings or get_settings()
    key = (s.embedding_model, s.embedding_device, str(s.calibration_file))
    with _lock:
        if key not in _graders:
            embedder = get_embedder(s.embedding_model, s.embedding_device, s.embedding_batch_size)
            _graders[key] = Grader(embedder, load_calibration(s.calibration_file))
        return _graders[key]


@lru_cache
def _banks(directory: str) -> BankRepository:
    from pathlib import Path

    return BankRepository(Path(directory))


def get_banks(settings: Settings | None = None) -> BankRepository:
    s = settings or get_settings()
    return _banks(str(s.rubrics_dir))
