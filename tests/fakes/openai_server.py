"""A fake OpenAI-compatible server: scripted chat completions over real HTTP on 127.0.0.1.

Tests talk to it through the real `openai` client, so they exercise the same code path as
production, and they can assert on what was sent (`server.requests`). Each reply is either
popped from `server.script` or made by `server.default(request)`. Switches cover the failures
an LLM server really produces: slow replies, 429 with Retry-After, 5xx, malformed or truncated
JSON, refusals, servers that reject `json_schema` (or `json_object`) response formats, and a
stopped server (connection refused).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Scripted:
    """One reply. `content` may be a dict (sent as JSON text) or raw text."""

    content: str | dict[str, Any] | None = None
    finish_reason: str = "stop"
    refusal: str | None = None
    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: str | None = None  # a raw HTTP body instead of a completion (e.g. not JSON at all)


def reply(content: str | dict[str, Any], **kw: Any) -> Scripted:
    return Scripted(content=content, **kw)


def slow(seconds: float, content: str | dict[str, Any] = "{}") -> Scripted:
    return Scripted(content=content, delay=seconds)


def rate_limited(retry_after: float = 1) -> Scripted:
    return Scripted(
        status=429, error="Rate limit reached", headers={"retry-after": f"{retry_after:g}"}
    )


def server_error(status: int = 500) -> Scripted:
    return Scripted(status=status, error="The server had an error while processing your request")


def truncated(content: str = '{"points": [{"id": "high-level", "verd') -> Scripted:
    return Scripted(content=content, finish_reason="length")


def refusal(text: str = "I'm sorry, I can't help with that.") -> Scripted:
    return Scripted(content=None, refusal=text)


def _completion(s: Scripted, model: str) -> dict[str, Any]:
    content = json.dumps(s.content) if isinstance(s.content, dict) else s.content
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": s.refusal},
                "finish_reason": s.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": None}},
        status_code=status,
        headers=headers,
    )


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: deque[Scripted] = deque()
        self.default: Callable[[dict[str, Any]], Scripted] = lambda _req: Scripted(
            content={
                "points": [],
                "misconceptions": [],
                "feedback": {"good": ["ok"], "add": [], "tip": ""},
            }
        )
        self.reject_json_schema = False
        self.reject_json_object = False
        self.reject_status = 400  # llama-cpp-python answers 500 to an unknown response_format
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests served at once (for concurrency limits)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    # --- control ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Scripted) -> None:
        self.script.extend(replies)

    def reset(self) -> None:
        """Clear the script and switches, after any slow reply a client gave up on has ended."""
        deadline = time.monotonic() + 10
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        self.requests.clear()
        self.headers.clear()
        self.script.clear()
        self.reject_json_schema = False
        self.reject_json_object = False
        self.reject_status = 400
        self.max_in_flight = 0
        self.default = FakeOpenAIServer().default

    def start(self) -> FakeOpenAIServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """After this, connections to `base_url` are refused."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- handlers --------------------------------------------------------------------------

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def _chat(self, request: Request) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON")
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        rf = (body.get("response_format") or {}).get("type")
        if rf == "json_schema" and self.reject_json_schema:
            return _error(
                self.reject_status, "response_format: Input should be 'text' or 'json_object'"
            )
        if rf == "json_object" and self.reject_json_object:
            return _error(self.reject_status, "response_format 'json_object' is not supported")
        s = self.script.popleft() if self.script else self.default(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if s.delay:
                await asyncio.sleep(s.delay)
        finally:
            self.in_flight -= 1
        if s.body is not None:
            return Response(s.body, status_code=s.status, media_type="application/json")
        if s.status != 200:
            return _error(s.status, s.error or "error", s.headers)
        return JSONResponse(_completion(s, str(body.get("model", ""))), headers=s.headers)


def refused_url() -> str:
    """A base URL on a port where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
