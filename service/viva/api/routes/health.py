"""Liveness and readiness, for load balancers and Docker's health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from viva.api import schemas
from viva.api.problems import problem
from viva.api.routes import responses

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> schemas.Health:
    """The process is alive (it may still be loading the model)."""
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Ready, responses=responses(503))
def readyz(request: Request) -> schemas.Ready | JSONResponse:
    """Ready to grade: the model is loaded and the database answers."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        return problem(503, "Not ready", "the grader is still loading", request)
    try:
        ready: schemas.Ready = service.check_ready()
        return ready
    except Exception as exc:
        return problem(
            503, "Not ready", f"the database is unreachable: {type(exc).__name__}", request
        )
