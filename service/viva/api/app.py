"""The app factory. uvicorn calls `create_app()` (settings from the environment); tests pass
settings and a grader built on the fake embedder.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from viva import __version__ as viva_version
from viva.api import deps, problems
from viva.api.routes import banks, grade, health, interviews
from viva.api.service import InterviewService
from viva.core.grader import Grader
from viva.settings import Settings, get_settings
from viva.store import Repository, open_database
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
    judge: Any | None = None,
) -> FastAPI:
    """Build the app. The model loads once, in the lifespan, not per request; `grader` and
    `judge` (an LLM reviewer) may be injected, e.g. by tests.
    """
    s = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from viva.runtime import get_banks, get_grader

        db = await to_thread.run_sync(open_database, s.resolved_database_url)
        try:
            bank_repo = await to_thread.run_sync(get_banks, s)
            g = grader if grader is not None else await to_thread.run_sync(get_grader, s)
            app.state.service = InterviewService(s, Repository(db), bank_repo, g, judge)
            log.info("viva ready: model %s, database %s", g.embedder.name, db.dialect)
            yield
        finally:
            app.state.service = None
            db.dispose()

    app = FastAPI(
        title="Viva",
        version=viva_version,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.service = None
    app.state.settings = s
    app.dependency_overrides[deps.get_settings] = lambda: s
    problems.install(app)
    app.add_middleware(problems.BodyLimit, limit=s.max_body_bytes)
    for module in (health, banks, interviews, grade):
        app.include_router(module.router)
    mount_web(app)  # the candidate-facing page at / (viva.web)
    return app
