"""One grader for the whole session, built the way the service builds it (shipped settings)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from viva.core.grader import Grader
from viva.domain.models import Bank, Grade


@pytest.fixture(scope="session")
def shipped_grader() -> Grader:
    """The composition root's grader: bundled model, shipped calibration, whatever is wired in."""
    from viva.runtime import get_grader
    from viva.settings import DEFAULT_MODEL, Settings

    return get_grader(
        Settings(embedding_model=DEFAULT_MODEL, embedding_device="cpu", calibration_file=None)
    )


@pytest.fixture(scope="session")
def grade(shipped_grader: Grader, keras_bank: Bank) -> Callable[[str, str], Grade]:
    """Grades an answer to a Keras question once; controls double as injection bases."""
    done: dict[tuple[str, str], Grade] = {}

    def run(question_id: str, answer: str) -> Grade:
        key = (question_id, answer)
        if key not in done:
            done[key] = shipped_grader.grade(
                keras_bank.question(question_id),
                answer,
                bank_id=keras_bank.id,
                bank_version=keras_bank.version,
            )
        return done[key]

    return run
