"""Liveness and readiness, for load balancers and Docker's health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from viva.api import schemas
from viva.api.problems import problem
from viva.api.routes import responses
from viva.app.interviews import Interviews
from viva.errors import StorageError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> schemas.Health:
    """The process is alive (it may still be loading the model)."""
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Ready, responses=responses(503))
def readyz(request: Request) -> schemas.Ready | JSONResponse:
    """Ready to grade: the model is loaded and the database answers and stores data."""
    interviews: Interviews | None = getattr(request.app.state, "interviews", None)
    if interviews is None:
        failed = getattr(request.app.state, "warmup_error", None)
        reason = (
            f"the grader failed to load: {failed}"
            if failed
            else "warming up: the embedding model is still loading"
        )
        return problem(503, "Not ready", reason, request, headers={"Retry-After": "2"})
    try:
        ready = interviews.readiness()
        return schemas.Ready(
            status="ready", model=ready.model, database=ready.database, llm=ready.llm
        )
    except StorageError as exc:  # e.g. the disk is full: reads work, writes do not
        return problem(503, "Not ready", str(exc), request, headers={"Retry-After": "30"})
    except Exception as exc:
        return problem(
            503, "Not ready", f"the database is unreachable: {type(exc).__name__}", request
        )
