"""The shipped vagueness head and word rule on answers written before the head was fitted and
never used to fit it (tests/core/data/vague_unseen.yaml): the real model at shipped settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from viva.adapters.calibration_file import load_calibration, load_vague_head
from viva.core.grader import Grader

pytestmark = pytest.mark.slow

UNSEEN = yaml.safe_load((Path(__file__).parent / "data" / "vague_unseen.yaml").read_text())
FILLER_FLAGS = {"vague", "off_topic"}


@pytest.fixture(scope="module")
def grader(real_embedder):  # type: ignore[no-untyped-def]
    head = load_vague_head()
    assert head is not None, "the package ships service/viva/data/vague_head.json"
    return Grader(real_embedder, load_calibration(), vague_head=head)


def _named(grader: Grader, keras_bank, key: str = "vague") -> list[str]:  # type: ignore[no-untyped-def]
    return [
        answer
        for qid, answer in UNSEEN[key]
        if FILLER_FLAGS & set(grader.grade(keras_bank.question(qid), answer).flags)
    ]


def test_unseen_filler_is_named_as_such(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    named = _named(grader, keras_bank)
    words_only = _named(Grader(grader.embedder, grader.calibration), keras_bank)
    # Measured: the word rule and the off-topic guard name 16 of these 22; with the head, 22.
    assert len(named) >= 21, f"named {len(named)} of {len(UNSEEN['vague'])}"
    assert set(words_only) < set(named), "the head adds nothing to the word rule"
    for qid, answer in UNSEEN["vague"]:
        assert grader.grade(keras_bank.question(qid), answer).score <= 0.25, answer


def test_a_later_round_of_unseen_filler_is_named(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    """Written before the corpus's last additions and not used for them: 12 of 15 named before
    them, 13 after (measured); every one scores 0.25 or less either way."""
    named = _named(grader, keras_bank, "vague_later")
    assert len(named) >= 13, f"named {len(named)} of {len(UNSEEN['vague_later'])}"
    for qid, answer in UNSEEN["vague_later"]:
        assert grader.grade(keras_bank.question(qid), answer).score <= 0.25, answer


def test_short_specific_answers_are_not_called_vague(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    called = [
        answer
        for qid, answer in UNSEEN["specific"]
        if FILLER_FLAGS & set(grader.grade(keras_bank.question(qid), answer).flags)
    ]
    assert not called


def test_a_third_round_of_unseen_filler_is_named(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    """Written after the head's last refit, two per question, and not used to change anything:
    all 22 named when written (measured); the short correct answers of the same round, none."""
    named = _named(grader, keras_bank, "vague_third")
    assert len(named) >= 21, f"named {len(named)} of {len(UNSEEN['vague_third'])}"
    for qid, answer in UNSEEN["vague_third"]:
        assert grader.grade(keras_bank.question(qid), answer).score <= 0.25, answer
    for qid, answer in UNSEEN["specific_third"]:
        g = grader.grade(keras_bank.question(qid), answer)
        assert not FILLER_FLAGS & set(g.flags), answer
        assert g.score >= 0.4, (answer, g.score)
