"""The app factory. uvicorn calls `create_app()` (settings from the environment); tests pass
settings and a grader built on the fake embedder.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from pydantic import ValidationError

from viva import __version__ as viva_version
from viva.api import auth, problems
from viva.api.auth import Gate
from viva.api.routes import banks, grade, health, interviews, privacy
from viva.app import retention
from viva.app.interviews import Interviews
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

    def start() -> tuple[Interviews, Gate]:
        """Settings first (no database touched on a typo), then the database, then the model.
        Errors a user can fix are logged as the CLI prints them."""
        repo: Repository | None = None
        try:
            parts.check()
            repo = parts.open_repository()
            gate = Gate(s, parts.authenticator(repo))
            if s.retention_days is not None:
                n = retention.purge(repo, s.retention_days)
                log.info("retention: purged %d interviews over %d days old", n, s.retention_days)
            return parts.interviews(repo), gate
        except VivaError as exc:
            log.error("error: %s", exc)
            if repo is not None:
                repo.close()
            raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service, app.state.gate = await to_thread.run_sync(start)
        try:
            app.state.interviews = service
            app.state.grading = parts.grading
            app.state.banks = parts.banks
            log.info(
                "viva ready: model %s, database %s",
                service.grader.embedder.name,
                service.repo.dialect,
            )
            yield
        finally:
            app.state.interviews = app.state.grading = app.state.banks = app.state.gate = None
            service.repo.close()

    app = FastAPI(
        title="Viva",
        version=viva_version,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.interviews = app.state.grading = app.state.banks = app.state.gate = None
    app.state.settings = s
    problems.install(app)
    auth.install(app)
    app.add_middleware(problems.BodyLimit, limit=s.max_body_bytes)
    for module in (health, banks, interviews, grade, privacy):
        app.include_router(module.router)
    mount_web(app)  # the candidate-facing page at / (viva.web)
    return app
