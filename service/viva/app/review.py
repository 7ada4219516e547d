"""The one path from an LLM judge's review to a graded answer, for the API and the CLI alike.

`Reviewer` wraps any `LLMJudge` (the OpenAI transport in production, a fake in tests) and owns
what every caller needs: the ±band around the embedding coverage, a grade that comes back
"unavailable" with a reason instead of an error, a bounded cache, a bound on concurrent calls
shared by interviews and batch runs, and the health that `/readyz` reports.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Literal

from cachetools import LRUCache

from viva.core.feedback import LLMJudge, LLMReview, apply_llm_review, mark_unavailable
from viva.domain.models import Grade, Question

NOT_CONFIGURED = "LLM feedback is not configured (set VIVA_LLM_BASE_URL and VIVA_LLM_MODEL)"
EMPTY_ANSWER = "nothing to review: the answer is empty"

Item = tuple[Question, str, Grade]
Progress = Callable[[int, int], None]
HealthStatus = Literal["ok", "degraded", "disabled"]


@dataclass(frozen=True)
class LLMHealth:
    """What `/readyz` says about the LLM: from past calls only, never a new one."""

    status: HealthStatus
    model: str | None = None
    prompt: str | None = None
    calls: int = 0
    failures: int = 0
    last_error: str | None = None


class Reviewer:
    """Folds an LLM judge's reviews into grades; thread-safe, one per judge.

    Without a judge every grade comes back `feedback_status="unavailable"` with
    NOT_CONFIGURED, and health is "disabled". A judge must not raise, but if one does the
    grade is still returned, unavailable, with the exception's type as the reason.
    """

    def __init__(
        self,
        judge: LLMJudge | None,
        *,
        band: float = 0.25,
        concurrency: int = 4,
        cache_size: int = 2048,
    ) -> None:
        self.judge = judge
        self.band = band
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._cache: LRUCache[str, LLMReview] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()
        self._calls = 0
        self._failures = 0
        self._consecutive_failures = 0
        self._last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.judge is not None

    def cache_key(self, question: Question, answer: str) -> str:
        """Same judge model, prompt version, question and answer: same review."""
        model = self.judge.model if self.judge else None
        prompt = self.judge.prompt if self.judge else None
        blob = json.dumps([model, prompt, question.model_dump_json(), answer])
        return hashlib.sha256(blob.encode()).hexdigest()

    def review(self, question: Question, answer: str, grade: Grade) -> Grade:
        """The grade with the review folded in, or marked unavailable with why. Never raises."""
        if self.judge is None:
            return mark_unavailable(grade, NOT_CONFIGURED)
        if "empty" in grade.flags:
            return mark_unavailable(grade, EMPTY_ANSWER)
        try:
            links = {m.id: m.contradicts for m in question.misconceptions if m.contradicts}
            review = self._review(self.judge, question, answer, grade)
            return apply_llm_review(grade, review, self.band, links)
        except Exception as exc:
            return mark_unavailable(grade, f"LLM review failed unexpectedly ({type(exc).__name__})")

    def review_many(self, items: Sequence[Item], progress: Progress | None = None) -> list[Grade]:
        """Review many answers, at most `concurrency` calls at a time across the process's
        callers; results keep input order, `progress(done, total)` follows completions."""
        if not items:
            return []
        if self.judge is None:
            if progress:
                progress(len(items), len(items))
            return [mark_unavailable(g, NOT_CONFIGURED) for _, _, g in items]
        out: list[Grade | None] = [None] * len(items)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            futures = {pool.submit(self.review, q, a, g): i for i, (q, a, g) in enumerate(items)}
            for done, fut in enumerate(as_completed(futures), start=1):
                out[futures[fut]] = fut.result()
                if progress:
                    progress(done, len(items))
        return [g for g in out if g is not None]

    def health(self) -> LLMHealth:
        """ok until a call fails; degraded while the most recent call failed."""
        if self.judge is None:
            return LLMHealth(status="disabled")
        with self._lock:
            degraded = self._consecutive_failures > 0
            return LLMHealth(
                status="degraded" if degraded else "ok",
                model=self.judge.model,
                prompt=self.judge.prompt,
                calls=self._calls,
                failures=self._failures,
                last_error=self._last_error if degraded else None,
            )

    def _review(self, judge: LLMJudge, question: Question, answer: str, grade: Grade) -> LLMReview:
        key = self.cache_key(question, answer)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        try:
            with self._slots:
                review = judge.review(question, answer, grade)
        except Exception as exc:
            review = LLMReview.unavailable(
                f"LLM review failed unexpectedly ({type(exc).__name__})",
                model=judge.model,
                prompt=judge.prompt,
            )
        with self._lock:
            self._calls += 1
            if review.status == "ok":
                self._consecutive_failures = 0
                self._cache[key] = review  # failures are not cached: the next call asks again
            else:
                self._failures += 1
                self._consecutive_failures += 1
                self._last_error = review.reason
        return review
