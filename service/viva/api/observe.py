"""Request ids, JSON logs and Prometheus metrics: one outermost middleware sees every request.

Each request gets an id (the client's `X-Request-ID` when it is a sane token, else a new one).
It is echoed as a response header, put in every problem body and in every log line written while
the request runs. Metrics are labelled by route template (`/v1/interviews/{interview_id}`), never
by raw path, so ids cannot blow up the number of series.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("viva.api")
access_log = logging.getLogger("viva.access")

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str | None] = ContextVar("viva_request_id", default=None)
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def current_request_id() -> str | None:
    """The id of the request this code runs for (None outside a request)."""
    return _request_id.get()


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(text):
                return text
            break  # unusable (too long, odd characters): replaced, never logged as sent
    return uuid.uuid4().hex


# --- logs ----------------------------------------------------------------------------------

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or current_request_id()
        if rid:
            out["request_id"] = rid
        for k, v in record.__dict__.items():
            if k not in _STANDARD and k not in out and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def json_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` (uvicorn's `log_config`) that writes JSON lines to stderr,
    for Viva's loggers and uvicorn's alike; uvicorn's own access log is off (ours has the id)."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "viva": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


# --- metrics -------------------------------------------------------------------------------

_GRADE_ROUTES = {
    "/v1/grade": "adhoc_or_bank",
    "/v1/interviews/{interview_id}/answers": "interview",
}


class Metrics:
    """The app's Prometheus series, in a registry of its own (one per app, so tests can build
    many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "viva_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "viva_http_request_duration_seconds",
            "Time from the request to the end of the response",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.grades = Counter("viva_grades", "Answers graded and returned", ["source"], registry=r)
        self.queue_depth = Gauge(
            "viva_grading_queue_depth",
            "Grade requests admitted and not finished (running or waiting for the model)",
            registry=r,
        )
        self.queue_rejected = Counter(
            "viva_grading_rejected", "Grade requests refused with 503: queue full", registry=r
        )
        self.llm_status = Gauge(
            "viva_llm_status", "1 for the LLM reviewer's current status", ["status"], registry=r
        )
        self.cache_bytes = Gauge(
            "viva_grader_cache_bytes",
            "Approximate bytes held by each grader cache",
            ["cache"],
            registry=r,
        )
        self.ready = Gauge("viva_ready", "1 when the service can grade and store", registry=r)
        self.batches = Gauge(
            "viva_grade_batches", "Model batches the request batcher ran since start", registry=r
        )
        self.batched = Gauge(
            "viva_grade_batched_requests",
            "Grade requests those batches held (divided by viva_grade_batches: mean batch size)",
            registry=r,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)
        if status == 200 and method == "POST" and route in _GRADE_ROUTES:
            self.grades.labels(_GRADE_ROUTES[route]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's path template; `unmatched` for 404s (no raw paths as labels)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


# --- the middleware ------------------------------------------------------------------------


class Observe:
    """Outermost middleware: request id, access log, metrics, and a last-resort 500 problem
    (inside this middleware, so even that response carries the request id)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id_of(scope)
        token = _request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not response_started:
                from viva.api.problems import problem

                resp = problem(
                    500,
                    "Internal error",
                    "an unexpected error occurred; see the server log",
                    instance=scope.get("path"),
                )
                await resp(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe(method, route, status, seconds)
            access_log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            _request_id.reset(token)
