"""LLM feedback through any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).

Failure is normal here: every problem (timeouts, refused connections, 429s, 5xx, truncated or
malformed JSON, refusals) becomes `feedback_status="unavailable"` with a short reason, and the
embedding grade is returned unchanged. Nothing in this module raises to its callers.

Entry points for the edges:
- `get_judge(settings)` -> the shared judge, or None when no LLM is configured;
- `with_feedback(question, answer, grade)` / `with_feedback_many(items, progress=...)`;
- `afeedback(...)` for async code; `llm_status(settings)` for `/readyz`;
- `enrich_graded_rows(rows, bank, settings)` for `viva grade --llm`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import openai

from viva.adapters.prompts import PromptTemplate, load_prompt
from viva.core.feedback import (
    LLMJudge,
    LLMReview,
    ReplyError,
    apply_llm_review,
    looks_like_injection,
    mark_unavailable,
    parse_reply,
    reply_json_schema,
)
from viva.domain.models import Bank, Grade, Question
from viva.settings import Settings, get_settings

JsonMode = Literal["json_schema", "json_object", "prompt"]
MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "prompt")
_FORMAT_ERROR = re.compile(r"response_format|json_schema|json_object|structured output", re.I)
NOT_CONFIGURED = "LLM feedback is not configured (set VIVA_LLM_BASE_URL and VIVA_LLM_MODEL)"
Progress = Callable[[int, int], None]
Item = tuple[Question, str, Grade]


@dataclass
class Health:
    """The last outcome of a real call, for `/readyz` (cache hits do not count)."""

    calls: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_ok: float | None = None


class _Unavailable(Exception):
    """Internal: a reason to give up on this review."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Unsupported(Exception):
    """Internal: the server rejected the request's response_format; try the next mode."""


class OpenAICompatibleJudge:
    """Reviews graded answers with a chat-completions model; thread-safe, one per process."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 1,
        max_tokens: int = 800,
        band: float = 0.25,
        concurrency: int = 4,
        prompt: str = "feedback.v1",
        prompts_dir: Path | None = None,
        cache_size: int = 2048,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.max_tokens = max_tokens
        self.band = band
        self.concurrency = concurrency
        self.template: PromptTemplate = load_prompt(
            prompt, prompts_dir or get_settings().prompts_dir
        )
        self.prompt = self.template.name
        # Retries are ours, not the client's: the client would sleep up to 2 minutes on a
        # Retry-After, and a grade must come back within about `timeout * (retries + 1)`.
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers ignore it; the client requires one
            timeout=timeout,
            max_retries=0,
        )
        self.health = Health()
        self._mode = 0  # index into MODES: the first one this server accepted
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._cache: OrderedDict[str, LLMReview] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleJudge:
        if not (settings.llm_base_url and settings.llm_model):
            raise ValueError(NOT_CONFIGURED)
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout,
            retries=settings.llm_retries,
            max_tokens=settings.llm_max_tokens,
            band=settings.llm_band,
            concurrency=settings.llm_concurrency,
            prompt=settings.llm_prompt,
            prompts_dir=settings.prompts_dir,
        )

    # --- public ---------------------------------------------------------------------------

    @property
    def mode(self) -> JsonMode:
        """The JSON mode the next request starts with (it only ever steps down)."""
        return MODES[self._mode]

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        """Ask the model once (with bounded retries); never raises."""
        try:
            return self._review(question, answer, grade)
        except Exception as exc:  # the contract: a grade always comes back
            return self._failed(f"LLM review failed unexpectedly ({type(exc).__name__})")

    def feedback(self, question: Question, answer: str, grade: Grade) -> Grade:
        """The grade with the review folded in, or marked unavailable with the reason."""
        try:
            return apply_llm_review(grade, self.review(question, answer, grade), self.band)
        except Exception as exc:
            return mark_unavailable(grade, f"LLM review failed unexpectedly ({type(exc).__name__})")

    def feedback_many(self, items: Sequence[Item], progress: Progress | None = None) -> list[Grade]:
        """Review many answers, at most `concurrency` at a time; results keep input order."""
        out: list[Grade | None] = [None] * len(items)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            futures = {pool.submit(self.feedback, q, a, g): i for i, (q, a, g) in enumerate(items)}
            for done, fut in enumerate(as_completed(futures), start=1):
                out[futures[fut]] = fut.result()
                if progress:
                    progress(done, len(items))
        return [g for g in out if g is not None]

    def status(self) -> dict[str, Any]:
        """ok until a call fails; degraded while the most recent call failed."""
        h = self.health
        state = "degraded" if h.consecutive_failures else "ok"
        return {
            "status": state,
            "model": self.model,
            "prompt": self.prompt,
            "mode": self.mode,
            "calls": h.calls,
            "failures": h.failures,
            "last_error": h.last_error if state == "degraded" else None,
        }

    # --- steps ----------------------------------------------------------------------------

    def cache_key(self, question: Question, answer: str) -> str:
        blob = json.dumps([self.model, self.prompt, question.model_dump_json(), answer])
        return hashlib.sha256(blob.encode()).hexdigest()

    def _review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        if "empty" in grade.flags:
            return LLMReview.unavailable(
                "nothing to review: the answer is empty", model=self.model, prompt=self.prompt
            )
        key = self.cache_key(question, answer)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        try:
            text = self._complete(question, answer)
            reply = parse_reply(text, question, answer)
        except (_Unavailable, ReplyError) as exc:
            return self._failed(exc.reason if isinstance(exc, _Unavailable) else str(exc))
        review = LLMReview(
            status="ok",
            reply=reply,
            model=self.model,
            prompt=self.prompt,
            injection=looks_like_injection(answer),
            answer=answer,
        )
        with self._lock:
            self.health.calls += 1
            self.health.consecutive_failures = 0
            self.health.last_ok = time.time()
            self._cache[key] = review
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return review

    def _failed(self, reason: str) -> LLMReview:
        with self._lock:
            self.health.calls += 1
            self.health.failures += 1
            self.health.consecutive_failures += 1
            self.health.last_error = reason
        return LLMReview.unavailable(reason, model=self.model, prompt=self.prompt)

    def render(self, question: Question, answer: str) -> tuple[list[dict[str, str]], str]:
        """The messages for one request, fenced with a fresh boundary the answer cannot contain."""
        tag = secrets.token_hex(8)
        while tag in answer:  # pragma: no cover - 64 random bits
            tag = secrets.token_hex(8)
        schema = reply_json_schema(question)
        rendered = self.template.render(
            question=question,
            answer=answer,
            boundary_open=f"<<<ANSWER-{tag}>>>",
            boundary_close=f"<<<END-ANSWER-{tag}>>>",
            schema=json.dumps(schema, separators=(",", ":")),
        )
        return rendered.messages(), tag

    def _complete(self, question: Question, answer: str) -> str:
        messages, _ = self.render(question, answer)
        schema = reply_json_schema(question)
        first = index = self._mode
        while True:
            try:
                completion = self._call(messages, MODES[index], schema)
                break
            except _Unsupported as exc:
                if index + 1 >= len(MODES):
                    raise _Unavailable(str(exc)) from None
                index += 1
        if index > first:
            # Remember only a fallback that the server then accepted, so one odd 400 (say,
            # a prompt over the context length) does not switch JSON modes off for good.
            with self._lock:
                self._mode = max(self._mode, index)
        return self._content(completion)

    def _call(self, messages: list[dict[str, str]], mode: JsonMode, schema: dict[str, Any]) -> Any:
        """One accepted completion, after bounded retries of transient failures."""
        kwargs: dict[str, Any] = {}
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "viva_feedback", "strict": True, "schema": schema},
            }
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        attempt = 0
        while True:
            try:
                with self._slots:
                    return self.client.chat.completions.create(
                        model=self.model,
                        messages=messages,  # type: ignore[arg-type]
                        temperature=0,
                        max_tokens=self.max_tokens,
                        **kwargs,
                    )
            except openai.APIError as exc:
                if isinstance(exc, openai.APIStatusError):
                    message = _server_message(exc, limit=2000)
                    reason = f"the LLM server rejected the request (HTTP {exc.status_code}: "
                    reason += f"{_short(message)})"
                    # Servers refuse formats differently: 400/422, or (llama-cpp-python) a 500
                    # whose message names response_format. Either way: try the next mode.
                    bad_request = exc.status_code in (400, 422)
                    if mode != "prompt" and (bad_request or _FORMAT_ERROR.search(message)):
                        raise _Unsupported(reason) from None
                    if bad_request:
                        raise _Unavailable(reason) from None
                reason, wait = self._classify(exc, attempt)
                if wait is None or attempt >= self.retries:
                    raise _Unavailable(reason) from None
                attempt += 1
                time.sleep(wait)

    def _classify(self, exc: openai.APIError, attempt: int) -> tuple[str, float | None]:
        """A reason, and how long to wait before retrying (None: do not retry)."""
        backoff = min(0.5 * 2**attempt, self.timeout)
        if isinstance(exc, openai.APITimeoutError):
            return f"the LLM server did not answer within {self.timeout:g}s", backoff
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach the LLM server at {self.base_url}", backoff
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            if code == 429:
                after = _retry_after(exc)
                hint = f", retry after {after:g}s" if after is not None else ""
                reason = f"the LLM server is rate limiting requests (HTTP 429{hint})"
                if after is None:
                    return reason, backoff
                return reason, (after if after <= self.timeout else None)
            if code in (401, 403):
                return f"the LLM server refused the API key (HTTP {code})", None
            if code == 404:
                return (
                    f"the LLM server has no model {self.model!r} or no chat endpoint (HTTP 404)",
                    None,
                )
            if code >= 500 or code in (408, 409):
                return f"the LLM server failed (HTTP {code})", backoff
            return (
                f"the LLM server rejected the request (HTTP {code}: {_server_message(exc)})",
                None,
            )
        if isinstance(exc, openai.APIResponseValidationError):
            return "the LLM server sent a response that is not a chat completion", None
        return f"the LLM call failed ({type(exc).__name__})", None

    def _content(self, completion: Any) -> str:
        choices = getattr(completion, "choices", None) or []
        if not choices:
            raise _Unavailable("the LLM server returned no choices")
        choice = choices[0]
        message = choice.message
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise _Unavailable(f"the model refused to review the answer ({_short(refusal, 80)})")
        if choice.finish_reason == "length":
            raise _Unavailable(
                f"the LLM reply was cut off at the token limit ({self.max_tokens} tokens)"
            )
        if choice.finish_reason == "content_filter":
            raise _Unavailable("the LLM server's content filter blocked the reply")
        content = message.content
        if not content or not content.strip():
            raise _Unavailable("the LLM reply was empty")
        return str(content)


def _short(text: str, limit: int = 120) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _server_message(exc: openai.APIStatusError, limit: int = 120) -> str:
    """The server's own error message, without the client's "Error code: 400 - " wrapper."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else None
        if isinstance(msg, str) and msg.strip():
            return _short(msg, limit)
    return _short(re.sub(r"^Error code: \d+ - ", "", exc.message), limit)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(float(value) / scale, 0.0)
            except ValueError:
                return None
    return None


# --- registry and process-wide access -------------------------------------------------------

JUDGES: dict[str, Callable[[Settings], LLMJudge]] = {
    "openai": OpenAICompatibleJudge.from_settings,
}
"""Providers by `VIVA_LLM_PROVIDER`; every OpenAI-compatible server uses "openai"."""

_judges: dict[tuple[Any, ...], LLMJudge] = {}
_judges_lock = threading.Lock()


def _settings_key(s: Settings) -> tuple[Any, ...]:
    key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
    return (
        s.llm_provider,
        s.llm_base_url,
        s.llm_model,
        key,
        s.llm_timeout,
        s.llm_retries,
        s.llm_max_tokens,
        s.llm_band,
        s.llm_concurrency,
        s.llm_prompt,
        str(s.prompts_dir),
    )


def get_judge(settings: Settings | None = None) -> LLMJudge | None:
    """The process's judge for these settings (so its cache and health are shared), or None."""
    s = settings or get_settings()
    if not s.llm_enabled:
        return None
    k = _settings_key(s)
    with _judges_lock:
        if k not in _judges:
            factory = JUDGES.get(s.llm_provider)
            if factory is None:
                raise ValueError(
                    f"unknown VIVA_LLM_PROVIDER {s.llm_provider!r} (have: {', '.join(JUDGES)})"
                )
            _judges[k] = factory(s)
        return _judges[k]


def reset_judges() -> None:
    """Forget the shared judges (tests; settings reloads)."""
    with _judges_lock:
        _judges.clear()


def _band(judge: LLMJudge, settings: Settings) -> float:
    return float(getattr(judge, "band", settings.llm_band))


def with_feedback(
    question: Question, answer: str, grade: Grade, settings: Settings | None = None
) -> Grade:
    """The grade with LLM feedback, or with feedback_status="unavailable" and why. Never raises."""
    s = settings or get_settings()
    try:
        judge = get_judge(s)
    except Exception as exc:
        return mark_unavailable(grade, f"LLM feedback is misconfigured ({_short(str(exc))})")
    if judge is None:
        return mark_unavailable(grade, NOT_CONFIGURED)
    if isinstance(judge, OpenAICompatibleJudge):
        return judge.feedback(question, answer, grade)
    try:
        return apply_llm_review(grade, judge.review(question, answer, grade), _band(judge, s))
    except Exception as exc:
        return mark_unavailable(grade, f"LLM review failed unexpectedly ({type(exc).__name__})")


def with_feedback_many(
    items: Sequence[Item], settings: Settings | None = None, progress: Progress | None = None
) -> list[Grade]:
    """Batch form of `with_feedback`, bounded by VIVA_LLM_CONCURRENCY; keeps input order."""
    s = settings or get_settings()
    try:
        judge = get_judge(s)
    except Exception as exc:
        reason = f"LLM feedback is misconfigured ({_short(str(exc))})"
        return [mark_unavailable(g, reason) for _, _, g in items]
    if judge is None:
        if progress:
            progress(len(items), len(items))
        return [mark_unavailable(g, NOT_CONFIGURED) for _, _, g in items]
    if isinstance(judge, OpenAICompatibleJudge):
        return judge.feedback_many(items, progress)
    out: list[Grade] = []
    for i, (q, a, g) in enumerate(items, start=1):
        out.append(with_feedback(q, a, g, s))
        if progress:
            progress(i, len(items))
    return out


async def afeedback(
    question: Question, answer: str, grade: Grade, settings: Settings | None = None
) -> Grade:
    """`with_feedback` for async code: runs in a worker thread, never blocks the event loop."""
    return await asyncio.to_thread(with_feedback, question, answer, grade, settings)


def enrich_graded_rows(
    rows: Sequence[Any],
    bank: Bank,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> None:
    """For `viva grade --llm`: replace each graded row's `.grade` with the reviewed one, in place.

    Rows are duck-typed (`viva.batch.GradedRow`): `.grade`, `.answer`, `.question_id`; rows
    without a grade (row errors) are left alone.
    """
    todo = [r for r in rows if r.grade is not None and r.answer is not None and r.question_id]
    items = [(bank.question(r.question_id), str(r.answer), r.grade) for r in todo]
    for row, grade in zip(todo, with_feedback_many(items, settings, progress), strict=True):
        row.grade = grade


def llm_status(settings: Settings | None = None, judge: Any | None = None) -> dict[str, Any]:
    """For `/readyz`: {"status": "disabled" | "ok" | "degraded", ...}. Makes no LLM call.

    `judge` is an injected reviewer (tests); by default the process's shared judge.
    """
    s = settings or get_settings()
    if judge is None:
        if not s.llm_enabled:
            return {"status": "disabled"}
        try:
            judge = get_judge(s)
        except Exception as exc:
            return {"status": "degraded", "last_error": _short(str(exc))}
    if judge is None:  # pragma: no cover - llm_enabled checked above
        return {"status": "disabled"}
    status = getattr(judge, "status", None)
    if callable(status):
        return dict(status())
    return {"status": "ok", "model": judge.model, "prompt": judge.prompt}
