"""LLM reviews through any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).

The transport only: render the prompt, pick a JSON mode the server accepts, retry what is worth
retrying, and turn every failure (timeouts, refused connections, 429s, 5xx, truncated or
malformed JSON, refusals) into an `LLMReview` with status "unavailable" and a short reason.
`review` never raises. Folding reviews into grades, caching, concurrency and health belong to
`viva.app.review.Reviewer`; `JUDGES` names the providers VIVA_LLM_PROVIDER can pick.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import openai

from viva.adapters.prompts import PromptTemplate, load_prompt
from viva.core.feedback import (
    LLMJudge,
    LLMReview,
    ReplyError,
    looks_like_injection,
    parse_reply,
    reply_json_schema,
)
from viva.domain.models import Grade, Question
from viva.errors import ConfigError
from viva.settings import DEFAULT_LLM_PROMPT, Settings

JsonMode = Literal["json_schema", "json_object", "prompt"]
MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "prompt")
_FORMAT_ERROR = re.compile(r"response_format|json_schema|json_object|structured output", re.I)


class _Unavailable(Exception):
    """Internal: a reason to give up on this review."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Unsupported(Exception):
    """Internal: the server rejected the request's response_format; try the next mode."""


def render_messages(
    template: PromptTemplate, question: Question, answer: str
) -> tuple[list[dict[str, str]], str]:
    """The chat messages for one review, fenced with a fresh boundary the answer cannot contain.

    Returns the messages and the boundary's random tag.
    """
    tag = secrets.token_hex(8)
    while tag in answer:  # pragma: no cover - 64 random bits
        tag = secrets.token_hex(8)
    schema = reply_json_schema(question)
    rendered = template.render(
        question=question,
        answer=answer,
        boundary_open=f"<<<ANSWER-{tag}>>>",
        boundary_close=f"<<<END-ANSWER-{tag}>>>",
        schema=json.dumps(schema, separators=(",", ":")),
    )
    return rendered.messages(), tag


class OpenAICompatibleJudge:
    """Reviews graded answers with a chat-completions model; thread-safe."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        prompts_dir: Path,
        api_key: str | None = None,
        timeout: float = 20.0,
        retries: int = 1,
        max_tokens: int = 800,
        prompt: str = DEFAULT_LLM_PROMPT,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.max_tokens = max_tokens
        self.template: PromptTemplate = load_prompt(prompt, prompts_dir)
        self.prompt = self.template.name
        # Retries are ours, not the client's: the client would sleep up to 2 minutes on a
        # Retry-After, and a grade must come back within about `timeout * (retries + 1)`.
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers ignore it; the client requires one
            timeout=timeout,
            max_retries=0,
        )
        self._mode = 0  # index into MODES: the first one this server accepted
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleJudge:
        """The judge VIVA_LLM_* describe; a prompt without template files is a ConfigError."""
        if not (settings.llm_base_url and settings.llm_model):
            raise ConfigError("VIVA_LLM_BASE_URL and VIVA_LLM_MODEL are both needed")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        try:  # the constructor's only ConfigError: the prompt's template files
            return cls(
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                api_key=key,
                timeout=settings.llm_timeout,
                retries=settings.llm_retries,
                max_tokens=settings.llm_max_tokens,
                prompt=settings.llm_prompt,
                prompts_dir=settings.prompts_dir,
            )
        except ConfigError as exc:
            raise ConfigError(f"VIVA_LLM_PROMPT: {exc}") from None

    # --- public ---------------------------------------------------------------------------

    @property
    def mode(self) -> JsonMode:
        """The JSON mode the next request starts with (it only ever steps down)."""
        return MODES[self._mode]

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        """Ask the model once (with bounded retries); never raises."""
        try:
            text = self._complete(question, answer)
            reply = parse_reply(text, question, answer)
        except (_Unavailable, ReplyError) as exc:
            return self._unavailable(exc.reason if isinstance(exc, _Unavailable) else str(exc))
        except Exception as exc:  # the contract: a review always comes back
            return self._unavailable(f"LLM review failed unexpectedly ({type(exc).__name__})")
        return LLMReview(
            status="ok",
            reply=reply,
            model=self.model,
            prompt=self.prompt,
            injection=looks_like_injection(answer),
            answer=answer,
        )

    def render(self, question: Question, answer: str) -> tuple[list[dict[str, str]], str]:
        """The messages for one request and the boundary's tag (see `render_messages`)."""
        return render_messages(self.template, question, answer)

    # --- steps ----------------------------------------------------------------------------

    def _unavailable(self, reason: str) -> LLMReview:
        return LLMReview.unavailable(reason, model=self.model, prompt=self.prompt)

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


# --- registry --------------------------------------------------------------------------------

JUDGES: dict[str, Callable[[Settings], LLMJudge]] = {
    "openai": OpenAICompatibleJudge.from_settings,
}
"""Providers by VIVA_LLM_PROVIDER; every OpenAI-compatible server uses "openai"."""
