"""Request batching: concurrent grade calls share one model batch and get the grades they would
have got alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.banks import BankRepository
from viva.app.batching import GradeBatcher
from viva.app.grading import Grading
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Grade

ANSWERS = [
    "Keras is a high-level API: you stack layers, compile and call fit.",
    "Plain TensorFlow needs you to write the training loop by hand.",
    "Keras 3 runs on JAX, TensorFlow or PyTorch.",
    "I do not know.",
    "It is friendly for beginners and good for quick prototypes.",
    "You can still override train_step when you need control.",
    "François Chollet wrote it.",
    "Keras is its own GPU engine.",
]


def _grading(embedder: FakeEmbedder, batcher: bool, **kw: float) -> Grading:
    grader = Grader(embedder)
    return Grading(
        grader,
        BankRepository(REPO / "rubrics"),
        max_answer_chars=5000,
        batcher=GradeBatcher(grader.grade_many, **kw) if batcher else None,  # type: ignore[arg-type]
    )


def _answer_passes(embedder: FakeEmbedder) -> list[int]:
    """How many of ANSWERS each embed_tokens call embedded, for the calls that embedded any
    (rubric texts and graded examples are embedded apart, once per question)."""
    texts = iter(embedder.token_texts)
    passes = []
    for kind, n in embedder.calls:
        if kind == "embed_tokens":
            answers = sum(text in ANSWERS for text in [next(texts) for _ in range(n)])
            if answers:
                passes.append(answers)
    return passes


def _grade_all(grading: Grading, barrier: threading.Barrier | None = None) -> list[Grade]:
    def one(answer: str) -> Grade:
        if barrier is not None:
            barrier.wait()
        return grading.grade(answer, bank_id="keras", question_id="keras-01")

    with ThreadPoolExecutor(len(ANSWERS)) as pool:
        return list(pool.map(one, ANSWERS))


def test_concurrent_requests_share_one_model_batch_and_grade_as_alone() -> None:
    alone = _grading(FakeEmbedder(), batcher=False)
    warm = alone.grade(ANSWERS[0], bank_id="keras", question_id="keras-01")  # rubric cached
    expected = [alone.grade(a, bank_id="keras", question_id="keras-01") for a in ANSWERS]

    embedder = FakeEmbedder()
    batched = _grading(embedder, batcher=True, max_batch=32, max_wait=0.2)
    assert batched.grade(ANSWERS[0], bank_id="keras", question_id="keras-01") == warm
    embedder.calls.clear()
    embedder.token_texts.clear()
    got = _grade_all(batched, threading.Barrier(len(ANSWERS)))

    assert [g.model_dump() for g in got] == [g.model_dump() for g in expected]
    # ANSWERS[0]'s tokens are cached; the other seven answers go through the model together
    # (one pass; two if a thread is late past the wait), not in seven passes.
    passes = _answer_passes(embedder)
    assert sum(passes) == len(ANSWERS) - 1 and len(passes) <= 2, passes


def test_batches_never_exceed_max_batch() -> None:
    sizes: list[int] = []
    grader = Grader(FakeEmbedder())

    def grade_many(reqs: Sequence[GradeRequest]) -> list[Grade]:
        sizes.append(len(reqs))
        return grader.grade_many(reqs)

    batcher = GradeBatcher(grade_many, max_batch=3, max_wait=0.2)
    bank = BankRepository(REPO / "rubrics").get("keras")
    q = bank.question("keras-01")
    barrier = threading.Barrier(len(ANSWERS))

    def one(answer: str) -> Grade:
        barrier.wait()
        return batcher.grade(q, answer, bank_id="keras", bank_version=bank.version)

    with ThreadPoolExecutor(len(ANSWERS)) as pool:
        grades = list(pool.map(one, ANSWERS))
    assert sum(sizes) == len(ANSWERS) and max(sizes) <= 3 and len(sizes) < len(ANSWERS)
    assert [g.provenance.bank_id for g in grades] == ["keras"] * len(ANSWERS)


def test_a_failing_request_fails_alone() -> None:
    grader = Grader(FakeEmbedder())

    def grade_many(reqs: Sequence[GradeRequest]) -> list[Grade]:
        if any(r.answer == "boom" for r in reqs):
            raise ValueError("bad answer")
        return grader.grade_many(reqs)

    batcher = GradeBatcher(grade_many, max_batch=8, max_wait=0.2)
    q = BankRepository(REPO / "rubrics").get("keras").question("keras-01")
    barrier = threading.Barrier(3)

    def one(answer: str) -> Grade:
        barrier.wait()
        return batcher.grade(q, answer)

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(one, a) for a in ("Keras is an API.", "boom", "Layers and fit.")]
    assert futures[0].result().question_id == "keras-01"
    with pytest.raises(ValueError, match="bad answer"):
        futures[1].result()
    assert futures[2].result().question_id == "keras-01"


def test_with_no_wait_requests_queued_during_a_batch_share_the_next_one() -> None:
    """The default (`max_wait` 0): nobody waits for company, yet the requests that arrive while
    the model is busy are graded together, not one pass each."""
    sizes: list[int] = []
    release = threading.Event()
    grader = Grader(FakeEmbedder())

    def grade_many(reqs: Sequence[GradeRequest]) -> list[Grade]:
        sizes.append(len(reqs))
        if len(sizes) == 1:
            release.wait(30)
        return grader.grade_many(reqs)

    batcher = GradeBatcher(grade_many, max_batch=32)
    assert batcher.max_wait == 0
    q = BankRepository(REPO / "rubrics").get("keras").question("keras-01")
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.grade, q, ANSWERS[0])
        for _ in range(3000):  # until the first answer is in the model
            if sizes:
                break
            time.sleep(0.01)
        queued = [pool.submit(batcher.grade, q, a) for a in ANSWERS[1:4]]
        for _ in range(3000):  # until all three wait for the model
            if len(batcher._queue) == 3:
                break
            time.sleep(0.01)
        release.set()
        assert first.result(timeout=30).question_id == "keras-01"
        assert all(f.result(timeout=30).question_id == "keras-01" for f in queued)
    assert sizes == [1, 3]
    assert (batcher.batches, batcher.graded) == (2, 4)
