"""Request batching: concurrent grade calls coalesced into one `grade_many` model batch.

The model runs one batch at a time, so N clients grading at once used to cost N forward passes
in a row. Here each caller queues its request and waits; a worker thread takes what is queued
(waiting at most `max_wait` seconds after the first arrival for more, up to `max_batch`) and
grades them together, as text-embeddings-inference and infinity do. A lone caller pays at most
`max_wait` extra. A batch that fails is retried one request at a time, so one bad request
fails alone.

`max_wait` is 0 by default: the requests that queue while a batch runs make the next batch, and
a waiting model is idle time. With openvino on 2 cores (bench/bench_api.py, 32 clients) a 5 ms
wait made batches of 14.5 to 18 requests and 58-60 answers/s; no wait made batches of 14.5 and
87 answers/s at less CPU an answer; one client's median went from 27 to 18 ms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from viva.core.grader import GradeRequest
from viva.domain.models import Grade, Question

GradeMany = Callable[[Sequence[GradeRequest]], list[Grade]]


@dataclass
class _Pending:
    request: GradeRequest
    done: threading.Event = field(default_factory=threading.Event)
    result: Grade | None = None
    error: BaseException | None = None


class GradeBatcher:
    """Thread-safe; `grade` has `Grader.grade`'s signature and result."""

    def __init__(self, grade_many: GradeMany, *, max_batch: int = 32, max_wait: float = 0.0):
        self._grade_many = grade_many
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batches = 0  # batches run (for metrics and tests)
        self.graded = 0  # requests those batches held: graded / batches is the mean batch size
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None

    def grade(
        self,
        question: Question,
        answer: str,
        *,
        bank_id: str = "adhoc",
        bank_version: str = "",
        siblings: Sequence[Question] = (),
    ) -> Grade:
        request = GradeRequest(question, answer, bank_id, bank_version, tuple(siblings))
        pending = _Pending(request)
        with self._cond:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="viva-batcher", daemon=True)
                self._worker.start()
            self._queue.append(pending)
            self._cond.notify_all()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def _next_batch(self) -> list[_Pending]:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            deadline = time.monotonic() + self.max_wait
            while len(self._queue) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            self.batches += 1
            self.graded += len(batch)
            try:
                grades = self._grade_many([p.request for p in batch])
                for p, g in zip(batch, grades, strict=True):
                    p.result = g
            except Exception:
                for p in batch:  # isolate the failing request
                    try:
                        p.result = self._grade_many([p.request])[0]
                    except Exception as exc:
                        p.error = exc
            finally:
                for p in batch:
                    if p.result is None and p.error is None:
                        p.error = RuntimeError("the grading batch failed")
                    p.done.set()
