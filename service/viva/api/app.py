"""The app factory. uvicorn calls `create_app()` (settings from the environment); tests pass
settings and a grader built on the fake embedder.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import ValidationError

from viva import __version__ as viva_version
from viva.api import auth, problems
from viva.api.auth import Gate
from viva.api.headers import HtmlSecurityHeaders
from viva.api.observe import METRICS_CONTENT_TYPE, Metrics, Observe
from viva.api.queue import GradingQueue
from viva.api.routes import banks, grade, health, history, interviews, privacy
from viva.app import retention
from viva.app.batching import GradeBatcher
from viva.app.interviews import Interviews
from viva.app.quota import Quotas
from viva.composition import Components, get_components
from viva.core.feedback import LLMJudge
from viva.core.grader import Grader
from viva.errors import ConfigError, VivaError
from viva.settings import Settings, get_settings, setting_errors
from viva.store import Repository
from viva.web import mount_web

log = logging.getLogger("viva.api")

DESCRIPTION = """\
Mock interviews with explainable rubric grading.

Start an interview with `POST /v1/interviews`, answer each question with
`POST /v1/interviews/{id}/answers` (send an `Idempotency-Key` header so retries are safe), and
fetch `GET /v1/interviews/{id}/report` at the end. Errors are RFC 9457
`application/problem+json`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    grader: Grader | None = None,
    judge: LLMJudge | None = None,
) -> FastAPI:
    """Build the app. Everything comes from the composition root, built in the lifespan (the
    model loads once, not per request); an injected `grader` or `judge` replaces the root's,
    e.g. in tests. Invalid settings stop start-up with the CLI's "VIVA_NAME: why" message.
    """
    try:
        s = settings or get_settings()
    except ValidationError as exc:
        message = "; ".join(setting_errors(exc))
        log.error("error: %s", message)
        raise ConfigError(message) from None
    injected = grader is not None or judge is not None
    parts = Components(s, grader=grader, judge=judge) if injected else get_components(s)

    def start() -> tuple[Repository, Gate, Quotas]:
        """Settings first (no database touched on a typo), then the database. Errors a user can
        fix are logged as the CLI prints them. The model is loaded later, in `warm_up`."""
        repo: Repository | None = None
        try:
            parts.check()
            repo = parts.open_repository()
            gate = Gate(s, parts.authenticator(repo))
            if s.retention_days is not None:
                n = retention.purge(repo, s.retention_days)
                log.info("retention: purged %d interviews over %d days old", n, s.retention_days)
            quotas = Quotas(
                repo,
                max_interviews=s.quota_interviews,
                max_answer_bytes=s.quota_answer_bytes,
                admin_subject=gate.auth.is_admin_subject,
            )
            return repo, gate, quotas
        except VivaError as exc:
            log.error("error: %s", exc)
            if repo is not None:
                repo.close()
            raise

    def warm_up(app: FastAPI, repo: Repository) -> None:
        """Load the model (seconds), then publish the use cases: until then the port is open,
        /healthz answers and /readyz and the grading routes answer 503 "warming up"."""
        try:
            service = parts.interviews(repo)
            grading = parts.grading
        except Exception as exc:
            app.state.warmup_error = f"{type(exc).__name__}: {exc}"
            log.error("error: the grader did not load: %s", exc)
            return
        app.state.batcher = parts.batcher  # None with VIVA_GRADE_BATCH_MAX=1: /metrics reads it
        app.state.grading = grading
        app.state.interviews = service
        log.info("viva ready: model %s, database %s", service.grader.embedder.name, repo.dialect)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo, app.state.gate, app.state.quotas = await to_thread.run_sync(start)
        app.state.warmup_error = None
        app.state.banks = parts.banks  # banks need no model: the page can list them at once
        try:
            if parts.model_loaded():  # e.g. an injected grader: ready at once
                warm_up(app, repo)
            else:
                threading.Thread(
                    target=warm_up, args=(app, repo), name="viva-warm-up", daemon=True
                ).start()
            yield
        finally:
            app.state.interviews = app.state.grading = app.state.banks = app.state.gate = None
            app.state.quotas = None
            repo.close()

    app = FastAPI(
        title="Viva",
        version=viva_version,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.interviews = app.state.grading = app.state.banks = app.state.gate = None
    app.state.quotas = app.state.batcher = None
    app.state.settings = s
    app.state.hidden_paths = _server_paths(s)
    metrics = app.state.metrics = Metrics()
    app.state.grading_queue = GradingQueue(s.max_queued_grades, metrics.queue_depth.set)
    problems.install(app)
    auth.install(app)
    app.add_middleware(problems.BodyLimit, limit=s.max_body_bytes)
    app.add_middleware(HtmlSecurityHeaders)
    app.add_middleware(auth.EdgeLimits)  # 429s before routing, the database or argon2
    app.add_middleware(Observe, metrics=metrics)  # outermost: sees every request and error
    for module in (health, banks, history, interviews, grade, privacy):
        app.include_router(module.router)
    if s.metrics_enabled:
        app.add_api_route("/metrics", _metrics_endpoint, methods=["GET"], include_in_schema=False)
    mount_web(app)  # the candidate-facing page at / (viva.web)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _server_paths(s: Settings) -> list[str]:
    """Directories whose names must not reach a client in an error message."""
    paths = [*s.bank_dirs, s.prompts_dir, s.data_dir, Path.cwd(), Path(sys.prefix)]
    if s.calibration_file is not None:
        paths.append(s.calibration_file)
    out = {str(p) for p in paths} | {str(p.resolve()) for p in paths}
    return sorted((p for p in out if p not in ("", "/")), key=len, reverse=True)


def _metrics_endpoint(request: Request) -> Response:
    """Prometheus text format. Gauges that describe state are read now, at scrape time.
    With authentication on, only admins and the scraper's `VIVA_METRICS_TOKEN` may read them:
    route names, request rates and queue depth tell an attacker when to strike."""
    auth.require_metrics_reader(request)
    metrics: Metrics = request.app.state.metrics
    service: Interviews | None = request.app.state.interviews
    if service is not None:
        status = service.reviewer.health().status
        for name in ("ok", "degraded", "disabled"):
            metrics.llm_status.labels(name).set(1.0 if name == status else 0.0)
        for cache, (_, size) in service.grader.cache_stats().items():
            metrics.cache_bytes.labels(cache).set(size)
        metrics.ready.set(0.0 if service.repo.db.write_failure else 1.0)
        batcher: GradeBatcher | None = request.app.state.batcher
        if batcher is not None:
            metrics.batches.set(batcher.batches)
            metrics.batched.set(batcher.graded)
    else:
        metrics.ready.set(0.0)
    return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)


_PROBLEM_CONTENT = {
    problems.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}},
}


def _link_interview_operations(doc: dict[str, Any]) -> None:
    """OpenAPI links from a created interview to what can be done with it, so clients (and
    schemathesis's stateful phase) can follow the id instead of guessing one."""
    paths = doc.get("paths", {})
    create = paths.get("/v1/interviews", {}).get("post", {}).get("responses", {}).get("201")
    if create is None:
        return
    targets = {
        "GetInterview": ("/v1/interviews/{interview_id}", "get"),
        "AnswerQuestion": ("/v1/interviews/{interview_id}/answers", "post"),
        "SkipQuestion": ("/v1/interviews/{interview_id}/skip", "post"),
        "GetReport": ("/v1/interviews/{interview_id}/report", "get"),
        "DeleteInterview": ("/v1/interviews/{interview_id}", "delete"),
    }
    links = {}
    for name, (path, method) in targets.items():
        op_id = paths.get(path, {}).get(method, {}).get("operationId")
        if op_id:
            links[name] = {
                "operationId": op_id,
                "parameters": {"interview_id": "$response.body#/id"},
            }
    create["links"] = links


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with what it cannot see: every 422 is a problem+json body (FastAPI
    documents its own JSON shape), and every /v1 operation may answer 503 (starting up, the
    database cannot store data, the grading queue is full)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": "Invalid request; `errors` names each field.",
                    "content": _PROBLEM_CONTENT,
                }
            if path.startswith("/v1/") and "503" not in responses:
                responses["503"] = {
                    "description": "Unavailable: starting up, the database cannot store data, "
                    "or the grading queue is full (see Retry-After).",
                    "content": _PROBLEM_CONTENT,
                }
    _link_interview_operations(doc)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    if "Problem" not in schemas:
        from viva.api.schemas import Problem

        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    app.openapi_schema = doc
    return doc
