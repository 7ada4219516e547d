"""The ASGI shell `viva serve` listens with, so the port opens within a second of start.

Importing FastAPI, the routes, sqlalchemy and the checks behind them takes seconds; a load
balancer or Docker's health check would see a dead process meanwhile. `Boot` answers at once:
/healthz 200, everything else 503 "warming up" (problem+json, Retry-After). In the background it
builds the real app (a thread: imports, settings checks, the database schema), runs the app's own
lifespan start-up, then hands every request to it; the app in turn answers /readyz 503 until the
model has loaded. If building fails (a bad setting, a refusal to serve), `error` says why and
`on_failure` stops the server, so `viva serve` exits 2 with the message, as before.

Plain ASGI on purpose: this module imports no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from viva.errors import VivaError

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("viva.api")

STARTING = "warming up: the server is starting"


class Boot:
    """Answers /healthz while `build()` makes the real app, then forwards everything to it."""

    def __init__(
        self, build: Callable[[], ASGIApp], *, on_failure: Callable[[], None] | None = None
    ) -> None:
        self._build = build
        self.on_failure = on_failure or (lambda: None)
        self.app: ASGIApp | None = None  # set once the real app has started
        self.error: str | None = None
        self._inner: _Lifespan | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._answer(scope, send)
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect; closing before accepting answers 403
            await send({"type": "websocket.close", "code": 1013})

    async def _answer(self, scope: Scope, send: Send) -> None:
        body: dict[str, Any]
        if scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            status, body, kind = 200, {"status": "ok"}, "application/json"
        else:
            detail = f"start-up failed: {self.error}" if self.error else STARTING
            body = {
                "type": "urn:viva:problem:unavailable",
                "title": "Not ready",
                "status": 503,
                "detail": detail,
                "instance": scope["path"],
            }
            status, kind = 503, "application/problem+json"
        payload = json.dumps(body).encode()
        headers = [
            (b"content-type", kind.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if status == 503:
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body_bytes = b"" if scope["method"] == "HEAD" else payload
        await send({"type": "http.response.body", "body": body_bytes})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup: complete at once, so the server starts listening
        starting = asyncio.create_task(self._start())
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if not starting.done():
            starting.cancel()  # a build thread in flight finishes on its own
        with contextlib.suppress(BaseException):
            await starting
        if self._inner is not None:
            try:
                await self._inner.shutdown()
            except Exception:
                log.exception("error: the app did not shut down cleanly")
        await send({"type": "lifespan.shutdown.complete"})

    async def _start(self) -> None:
        try:
            app = await asyncio.to_thread(self._build)
            self._inner = _Lifespan(app)
            await self._inner.startup()
        except Exception as exc:
            self.error = str(exc) if isinstance(exc, VivaError) else f"{type(exc).__name__}: {exc}"
            self.on_failure()
            return
        self.app = app


class _Lifespan:
    """Runs an ASGI app's lifespan protocol from the outside, as a server would."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.create_task(self._run(scope))
        await self._step("lifespan.startup")

    async def shutdown(self) -> None:
        if self._task is not None and not self._task.done():
            await self._step("lifespan.shutdown")
            await self._task

    async def _run(self, scope: Scope) -> None:
        await self._app(scope, self._to_app.get, self._from_app.put)

    async def _step(self, stage: str) -> None:
        """Send `stage`; return on `<stage>.complete`, raise the app's own error otherwise."""
        assert self._task is not None
        await self._to_app.put({"type": stage})
        reply = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({reply, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if reply.done() and reply.result()["type"] == f"{stage}.complete":
            return
        reply.cancel()
        message = reply.result().get("message", "") if reply.done() else ""
        with contextlib.suppress(asyncio.CancelledError):
            await self._task  # the app's exception (e.g. a ConfigError) is the better message
        raise RuntimeError(message or f"the app's {stage} failed")
