"""A scripted LLM judge for the `Reviewer`: no server, no network.

It says every point is covered (quoting the whole answer) with fixed feedback, or fails the way
it is told to: an "unavailable" review, or an exception (a judge breaking its contract). It
counts calls and the most calls in flight at once, so tests can see caching and concurrency.
"""

from __future__ import annotations

import threading
import time

from viva.core.feedback import LLMReply, LLMReview, PointVerdict, ReplyFeedback
from viva.domain.models import Grade, Question

TIP = "Say why, not only what."


class FakeJudge:
    def __init__(
        self,
        model: str = "fake-judge",
        prompt: str = "feedback.v1",
        *,
        delay: float = 0.0,
        fail: str | None = None,
        raises: Exception | None = None,
    ) -> None:
        self.model = model
        self.prompt = prompt
        self.delay = delay
        self.fail = fail  # a reason: every review comes back unavailable with it
        self.raises = raises
        self.calls: list[tuple[str, str]] = []  # (question id, answer)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        with self._lock:
            self.calls.append((question.id, answer))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.raises is not None:
                raise self.raises
            if self.fail is not None:
                return LLMReview.unavailable(self.fail, model=self.model, prompt=self.prompt)
            reply = LLMReply(
                points=[
                    PointVerdict(id=p.id, verdict="covered", quote=answer) for p in question.points
                ],
                feedback=ReplyFeedback(good=["Clear."], add=["An example."], tip=TIP),
            )
            return LLMReview(
                status="ok", reply=reply, model=self.model, prompt=self.prompt, answer=answer
            )
        finally:
            with self._lock:
                self.in_flight -= 1
