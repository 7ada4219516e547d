"""RFC 9457 problem+json for every error, and the body-size limit.

Domain errors map to statuses here and only here. Anything unexpected is logged and answered as
a 500 problem without internals; client mistakes are all caught before that.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viva import errors
from viva.api.observe import current_request_id

log = logging.getLogger("viva.api")

PROBLEM_JSON = "application/problem+json"

_STATUS = [
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.InvalidInputError, 422),
    (errors.ConfigError, 503),
    (errors.StorageError, 503),
]

RETRY_AFTER_STORAGE = "30"  # seconds: a full disk is not fixed in a second

_SLUG = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str,
    request: Request | None = None,
    *,
    errors_: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    hidden: Iterable[str] = ()
    if request is not None:
        hidden = getattr(request.app.state, "hidden_paths", ())
    body: dict[str, Any] = {
        "type": f"urn:viva:problem:{_SLUG.get(status, str(status))}",
        "title": title,
        "status": status,
        "detail": scrub_paths(detail, hidden),
    }
    if request is not None or instance:
        body["instance"] = request.url.path if request is not None else instance
    if errors_:
        body["errors"] = [
            {**e, "msg": scrub_paths(e["msg"], hidden)} if isinstance(e.get("msg"), str) else e
            for e in errors_
        ]
    rid = current_request_id()
    if rid:
        body["request_id"] = rid
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers) if headers else None,
    )


_SERVER_PATH = re.compile(
    r"(?<![\w.])(?:/(?:home|root|work|usr|opt|var|srv|tmp|app|etc|mnt|data|Users)"
    r"|[A-Za-z]:\\)[^\s'\"),;]*"
)


def scrub_paths(text: str, hidden: Iterable[str] = ()) -> str:
    """Server file paths out of a message a client sees: a known directory becomes its last
    name (`rubrics`), any other absolute path under a system root its file name."""
    for path in sorted(hidden, key=len, reverse=True):
        if path and path in text:
            text = text.replace(path, PurePath(path).name or "<server path>")
    return _SERVER_PATH.sub(lambda m: PurePath(m.group()).name or "<server path>", text)


# Where a use case's inputs travel in a request: the body, unless listed here.
_LOCATION: dict[str, tuple[str, ...]] = {"idempotency_key": ("header", "Idempotency-Key")}


def field_location(field: errors.FieldPath) -> list[str | int]:
    """A use case's field path as a request location, like pydantic's own `loc`."""
    if field and isinstance(field[0], str) and field[0] in _LOCATION:
        return [*_LOCATION[field[0]], *field[1:]]
    return ["body", *field]


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI passes it through as is."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is larger than {limit} bytes (VIVA_MAX_BODY_BYTES)"
        )


class BodyLimit:
    """Refuse bodies over `limit` bytes: by Content-Length up front, or as they stream in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    resp = problem(
                        413,
                        "Content too large",
                        BodyTooLarge(self.limit).detail,
                        instance=scope.get("path"),
                    )
                    resp.headers["connection"] = "close"
                    await resp(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


def _pydantic_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        item: dict[str, Any] = {
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        out.append(item)
    return out


def _allowed_methods(request: Request) -> str:
    """Every method some route fully matches at this path, for a 405's Allow header. A route
    written for exactly this path (`/v1/banks/reload`) speaks for it alone: a parameter route
    that also matches (`/v1/banks/{bank_id}`) would only answer that no such bank exists."""
    documented = request.app.openapi().get("paths", {}).get(request.scope.get("path", ""))
    if documented:  # a path with no parameters, as the schema lists it
        return ", ".join(sorted(m.upper() for m in documented))
    routes = request.app.router.routes
    allowed = [
        m
        for m in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.VivaError)
    async def viva_error(request: Request, exc: errors.VivaError) -> JSONResponse:
        status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
        headers = None
        if isinstance(exc, errors.StorageError):
            log.error("storage failure on %s %s: %s", request.method, request.url.path, exc)
            headers = {"Retry-After": RETRY_AFTER_STORAGE}
        if exc.field is not None:  # name the field, like a 422 from pydantic does
            loc = field_location(exc.field)
            err = {"loc": loc, "msg": str(exc), "type": "value_error", **exc.context}
            return problem(status, exc.title, str(exc), request, errors_=[err], headers=headers)
        return problem(status, exc.title, str(exc), request, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = _pydantic_errors(exc)
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errs[:5])
        return problem(
            422, "Invalid request", where or "the request is invalid", request, errors_=errs
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {
            404: "Not found",
            405: "Method not allowed",
            413: "Content too large",
            429: "Too many requests",
            503: "Service unavailable",
        }.get(exc.status_code, "HTTP error")
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}; see /docs for the API"
        headers = exc.headers
        if exc.status_code == 405:  # Starlette lists one route's methods; a path may have more
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        if exc.status_code == 400 and "parsing the body" in detail:
            # A malformed body is a validation problem the client can fix.
            return problem(422, "Invalid request", "the body is not valid JSON", request)
        return problem(exc.status_code, title, detail, request, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, "Internal error", "an unexpected error occurred; see the server log", request
        )
