"""An excellent answer reads on a person's scale: about 0.9 and "strong", not 0.6 and "partial".

Coverage is fitted as the chance that a point is made, and a weighted mean of such chances
topped out near 0.6 for answers that make every point: the calibration's fitted stretch above
the covered line (`scoring.stretched`) is what lifts them. The answers below were written for
this test after the stretch was fitted (on the banks' graded examples, which they are not), in
words of their own; each makes every point of its question. Real model, shipped calibration,
the bank as it ships (graded examples included).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from viva.core import scoring
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Bank

pytestmark = pytest.mark.slow

EXCELLENT = {
    "keras-04": (
        "Think of the convolution as a small window of learned weights moving across the image: "
        "at each location it takes the patch under it, through every channel, multiplies "
        "element by element, adds everything up plus a bias, and writes one number, so each "
        "filter produces its own feature map. Because the same small kernel is reused at every "
        "location and only looks at a local neighbourhood, a conv layer has far fewer weights "
        "than a fully connected one. Early conv layers end up detecting edges and textures, and "
        "deeper ones combine those into parts of objects. You choose how many filters, the "
        "kernel size, the stride and the padding; with stride 1, 'same' padding preserves "
        "height and width while 'valid' loses the border. Pooling then shrinks each feature map "
        "by summarising small windows, taking the maximum for max pooling or the mean for "
        "average pooling; it learns nothing, saves compute in the following layers and makes "
        "the output a bit tolerant to small translations."
    ),
    "keras-09": (
        "Early stopping means you don't commit to a fixed epoch count: you watch a validation "
        "metric and end training when it has stopped getting better. That protects against "
        "overfitting, since you quit around the moment the validation loss turns upward even "
        "though the training loss is still going down. In Keras I'd build "
        "keras.callbacks.EarlyStopping and put it in the callbacks list I give to model.fit, "
        "together with validation_data. monitor picks what to watch, normally val_loss, and "
        "patience is the number of epochs with no improvement it puts up with before stopping. "
        "With restore_best_weights=True the model is reset to the best epoch's weights rather "
        "than the final ones, min_delta is the smallest change treated as real progress, and "
        "mode tells it whether lower or higher is better."
    ),
    "keras-06": (
        "The batch size is how many examples go into each gradient computation before one "
        "weight update. Bigger batches give a less noisy gradient and keep the GPU busy, so an "
        "epoch finishes sooner, but they cost more memory. Very large batches can end up "
        "generalising worse, mostly if you keep the same learning rate and schedule, whereas "
        "the noise of small batches works a little like regularisation. The two settings are "
        "linked: with SGD a usual heuristic is to increase the learning rate roughly in line "
        "with the batch size, often with a warm-up phase. In practice I begin at something like "
        "32 or 64 and try a few sizes, comparing validation results and training time."
    ),
    "keras-11": (
        "Data augmentation makes extra training samples by applying random changes that keep "
        "the label valid, like flipping, rotating, cropping, zooming or shifting brightness. It "
        "gives the model more variety to learn from, which cuts overfitting and improves "
        "generalisation, above all on small datasets. The randomness is only used while "
        "training; validation and test images stay as they are so the evaluation matches real "
        "data. In Keras 3 you put layers such as RandomFlip, RandomRotation and RandomZoom into "
        "the model, and they only act during training. Older Keras 2 code relied on "
        "ImageDataGenerator with options like rotation_range, but that class is gone in Keras "
        "3: you read the images with image_dataset_from_directory and augment with those "
        "layers. The changes have to make sense for the data, for example turning a handwritten "
        "6 upside down makes it a 9."
    ),
    "keras-07": (
        "First model.compile sets up training: you give it the optimizer, the loss and the "
        "metrics you want printed. The loss has to fit the labels and the last layer, for "
        "instance categorical_crossentropy with one-hot targets, "
        "sparse_categorical_crossentropy with integer class ids and mean squared error for "
        "regression. Metrics such as accuracy are only reported so you can follow progress; the "
        "optimizer minimises the loss. Then you train with model.fit on the training set and "
        "check held-out performance with model.evaluate. For new inputs, model.predict does a "
        "forward pass in batches and gives back a NumPy array. Those values are probabilities "
        "only if the output layer is a softmax or a sigmoid: you take the argmax of a softmax "
        "to get the class, or threshold a sigmoid, usually at 0.5."
    ),
    "keras-01": (
        "Keras sits at a higher level: it hands you ready-made layers, losses and optimizers "
        "plus a built-in fit loop, so a working network is a few lines. With raw TensorFlow or "
        "PyTorch you deal with the tensors, the gradients and the training loop yourself, which "
        "means more code. Keras 3 also runs on several backends, TensorFlow, JAX or PyTorch, "
        "and you switch with the KERAS_BACKEND variable without touching the model. Its small, "
        "consistent API makes it easy for beginners and fast for prototyping. You give up some "
        "fine control, but you can still write custom layers, override train_step or drop to "
        "the backend when you need to. It was written by François Chollet, TensorFlow has "
        "included it as tf.keras since version 1.4, and from TensorFlow 2.16 tf.keras is Keras "
        "3."
    ),
}


@pytest.mark.parametrize("question_id", sorted(EXCELLENT))
def test_an_answer_that_makes_every_point_reads_strong(
    shipped_grader: Grader, keras_bank: Bank, question_id: str
) -> None:
    q = keras_bank.question(question_id)
    g = shipped_grader.grade(q, EXCELLENT[question_id], bank_id=keras_bank.id)
    assert not g.flags and all(p.covered for p in g.points), g.points
    assert g.score >= scoring.STRONG and g.label == "strong", g.score


def test_without_the_stretch_the_same_answers_read_partial(
    shipped_grader: Grader, keras_bank: Bank
) -> None:
    """What the issue reported, so the test above is about the stretch and not the answers."""
    cal = shipped_grader.calibration
    assert cal.stretch > 1.0, "the shipped calibration has no stretch"
    bare = [keras_bank.question(qid).model_copy(update={"examples": ()}) for qid in EXCELLENT]
    feats = shipped_grader.features_many(
        [GradeRequest(q, EXCELLENT[q.id], keras_bank.id) for q in bare]
    )
    plain = [shipped_grader.from_features(f, replace(cal, stretch=1.0)).score for f in feats]
    stretched = [shipped_grader.from_features(f, cal).score for f in feats]
    assert {scoring.label(x) for x in plain} == {"partial"}, plain
    assert min(stretched) >= scoring.STRONG, stretched
