"""One grader for the whole session, built the way the service builds it (shipped settings)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from viva.core.grader import Grader
from viva.domain.models import Bank, Grade


@pytest.fixture(scope="session")
def shipped_grader() -> Grader:
    """The composition root's grader: bundled model, shipped calibration, whatever is wired in."""
    from viva.composition import get_components
    from viva.settings import DEFAULT_MODEL, Settings

    return get_components(
        Settings(embedding_model=DEFAULT_MODEL, embedding_device="cpu", calibration_file=None)
    ).grader


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


KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Cases the grader does not meet yet are strict xfails, listed by test id in
    known_failures.txt: a regression fails the run, and so does a case that starts passing
    (then take it off the list)."""
    if not KNOWN_FAILURES.exists() or os.environ.get("VIVA_TRUST_REFRESH"):
        return
    known = {
        line.strip()
        for line in KNOWN_FAILURES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for item in items:
        if item.name in known:
            item.add_marker(
                pytest.mark.xfail(strict=True, reason="issue 9: not met yet (known_failures.txt)")
            )
