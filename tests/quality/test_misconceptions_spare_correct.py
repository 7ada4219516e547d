"""A correct statement is never told it said something wrong (issue 9): misconceptions at
shipped settings, on correct sentences. A false "you said X" costs more trust than a missed one.

The short answers below were written for this test (one comes from examples/answers.jsonl).
The plainest answer to keras-01 among them fired `own-engine` and lost its points ("Keras is a
high-level API on top of TensorFlow." read 0.07 with `contradicts`) until the bank's too-general
wording of that misconception was replaced (keras 1.3.1). The new wordings were checked against
these answers, so they are regression tests here, not a held-out measure. The reference
answers' own sentences fired five misconceptions across the shipped banks ("Clipping does
nothing for vanishing gradients.") until the grader counted them as rivals of every wrong claim.
"""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import REPO
from viva.adapters.banks import load_bank_file
from viva.core.grader import Grader, GradeRequest
from viva.core.text import split_sentences
from viva.domain.models import Bank, Grade

pytestmark = pytest.mark.slow

SHORT_CORRECT = [
    # From examples/answers.jsonl (thin but right): it fired `own-engine`, then, with the
    # reference answer as a rival, `toy-only`, until that misconception's wording that leaned
    # on "TensorFlow or PyTorch" was replaced too.
    (
        "keras-01",
        "Keras is easier to use than TensorFlow and pytorch, its more beginner friendly. I think "
        "it runs on top of tensorflow.",
    ),
    ("keras-01", "Keras is a high-level API on top of TensorFlow."),
    (
        "keras-01",
        "Keras runs on top of a backend such as TensorFlow, JAX or PyTorch and gives you "
        "ready-made layers.",
    ),
    (
        "keras-02",
        "Sequential is a plain stack of layers, while the functional API builds graphs with "
        "branches or several inputs.",
    ),
    (
        "keras-02",
        "Use Sequential for a simple stack; use the functional API when layers are shared or the "
        "model has multiple outputs.",
    ),
    (
        "keras-03",
        "ReLU is the usual choice in hidden layers, sigmoid for binary outputs and softmax for "
        "multi-class outputs.",
    ),
    (
        "keras-03",
        "Activation functions add non-linearity; without them stacked layers collapse into one "
        "linear map.",
    ),
    (
        "keras-04",
        "A convolution slides small learned filters over the image; pooling downsamples the "
        "feature maps.",
    ),
    (
        "keras-04",
        "Max pooling keeps the largest value in each window and has no trainable weights.",
    ),
    ("keras-05", "Dropout randomly zeroes some activations during training to reduce overfitting."),
    ("keras-05", "Dropout is only active during training; at inference Keras turns it off."),
    (
        "keras-06",
        "Larger batches use more memory and give smoother gradients; smaller batches are noisier.",
    ),
    ("keras-06", "The batch size is the number of samples per gradient update."),
    (
        "keras-07",
        "predict returns the model's outputs for new inputs, for example class probabilities from"
        " a softmax layer.",
    ),
    (
        "keras-07",
        "To get class labels from predict, take the argmax of the predicted probabilities.",
    ),
    (
        "keras-08",
        "ModelCheckpoint saves the model or its weights during training, for example whenever "
        "val_loss improves.",
    ),
    (
        "keras-08",
        "Use a callback like ModelCheckpoint with save_best_only=True to keep the best model.",
    ),
    (
        "keras-09",
        "Early stopping halts training when the validation loss stops improving for a set number "
        "of epochs.",
    ),
    (
        "keras-09",
        "EarlyStopping with restore_best_weights=True puts back the weights from the best epoch.",
    ),
    (
        "keras-10",
        "Transfer learning reuses a network pretrained on a large dataset such as ImageNet for a "
        "new task.",
    ),
    (
        "keras-10",
        "Freeze the pretrained base, train a new head, then unfreeze some layers and fine-tune "
        "with a low learning rate.",
    ),
    (
        "keras-11",
        "Data augmentation creates modified copies of training images, such as flips and "
        "rotations, to reduce overfitting.",
    ),
    (
        "keras-11",
        "In Keras you can add RandomFlip and RandomRotation layers at the start of the model; "
        "they only act during training.",
    ),
]


def _told_wrong(grades: list[Grade]) -> list[str]:
    return [
        f"{g.question_id}: {[m.id for m in g.misconceptions if m.triggered]} {g.flags}"
        for g in grades
        if any(m.triggered for m in g.misconceptions) or "contradicts" in g.flags
    ]


def test_short_correct_answers_fire_no_misconception(
    shipped_grader: Grader, keras_bank: Bank
) -> None:
    requests = [
        GradeRequest(keras_bank.question(q), a, keras_bank.id, keras_bank.version)
        for q, a in SHORT_CORRECT
    ]
    assert not _told_wrong(shipped_grader.grade_many(requests))


OTHER_BANKS = yaml.safe_load(
    (REPO / "tests" / "quality" / "short_correct_other_banks.yaml").read_text(encoding="utf-8")
)
OTHER_BANKS_TOLD_WRONG = 4  # measured when written (see the file): a ceiling, not a target


def test_few_short_correct_answers_elsewhere_are_told_they_are_wrong(
    shipped_grader: Grader,
) -> None:
    questions = {}
    for path in sorted((REPO / "rubrics").glob("*.yaml")):
        bank = load_bank_file(path)
        questions.update({q.id: (bank, q) for q in bank.questions})
    requests = [
        GradeRequest(questions[r["question_id"]][1], r["answer"], questions[r["question_id"]][0].id)
        for r in OTHER_BANKS
    ]
    told = _told_wrong(shipped_grader.grade_many(requests))
    assert len(requests) == 49
    assert len(told) <= OTHER_BANKS_TOLD_WRONG, "\n".join(told)


def test_no_bank_tells_its_own_reference_answer_it_is_wrong(shipped_grader: Grader) -> None:
    requests = []
    for path in sorted((REPO / "rubrics").glob("*.yaml")):
        bank = load_bank_file(path)
        for q in bank.questions:
            bare = q.model_copy(update={"examples": ()})  # no example pulls the grade
            requests += [
                GradeRequest(bare, s.text, bank.id) for s in split_sentences(q.reference_answer)
            ]
            requests += [
                GradeRequest(bare, ex.answer, bank.id)
                for ex in q.examples
                if ex.score >= 0.75 and not ex.misconception
            ]
    assert len(requests) > 400, "the banks lost their reference answers"
    assert not _told_wrong(shipped_grader.grade_many(requests))
