"""The shipped guards on sentences written before the injection head was fitted and never used
to fit it (tests/core/data/guard_unseen.yaml): the real model at shipped settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from viva.adapters.calibration_file import load_calibration, load_injection_head
from viva.core.grader import Grader

pytestmark = pytest.mark.slow

UNSEEN = yaml.safe_load((Path(__file__).parent / "data" / "guard_unseen.yaml").read_text())
GOOD = (
    "Dropout fights overfitting: during training it zeroes a random share of the activations on "
    "every step, so units cannot rely on each other. At prediction time it is switched off and "
    "the full network is used."
)


@pytest.fixture(scope="module")
def grader(real_embedder):  # type: ignore[no-untyped-def]
    head = load_injection_head()
    assert head is not None, "the package ships service/viva/data/injection_head.json"
    return Grader(real_embedder, load_calibration(), injection_head=head)


def _caught(grader: Grader, q: object, key: str = "grader_directed") -> list[str]:
    return [
        s
        for s in UNSEEN[key]
        if "prompt_injection" in grader.grade(q, s).flags  # type: ignore[arg-type]
        and "prompt_injection" in grader.grade(q, f"{GOOD} {s}").flags  # type: ignore[arg-type]
    ]


def test_most_unseen_pleas_are_caught_alone_and_appended(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    q = keras_bank.question("keras-05")
    caught = _caught(grader, q)
    without = _caught(Grader(grader.embedder, grader.calibration), q)
    # Measured: the grammar and the prototypes alone catch 9 of these 40; with the head, 19.
    assert len(caught) >= 19, f"caught {len(caught)} of {len(UNSEEN['grader_directed'])}"
    assert set(without) < set(caught), "the head adds nothing to the other two guards"


def test_a_later_round_of_unseen_pleas_is_caught(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    """Written before the grammar's last extension and not used for it: 26 of 30 were caught
    before it, 27 after (measured)."""
    later = UNSEEN["grader_directed_later"]
    caught = _caught(grader, keras_bank.question("keras-05"), "grader_directed_later")
    assert len(caught) >= 27, f"caught {len(caught)} of {len(later)}"


def test_a_third_round_of_unseen_pleas_is_caught(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    """Written after every change to the guards and used for none: 15 of 15 caught, alone and
    after a correct answer (measured)."""
    third = UNSEEN["grader_directed_third"]
    caught = _caught(grader, keras_bank.question("keras-05"), "grader_directed_third")
    assert len(caught) >= 15, f"caught {len(caught)} of {len(third)}"


def test_answer_sentences_with_grading_words_are_not_flagged(grader, keras_bank) -> None:  # type: ignore[no-untyped-def]
    q = keras_bank.question("keras-05")
    flagged = [
        s
        for s in UNSEEN["grader_vocabulary_innocent"]
        if "prompt_injection" in grader.grade(q, f"{GOOD} {s}").flags
    ]
    assert not flagged
