"""Liveness and readiness, for load balancers and Docker's health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from viva.api import schemas
from viva.api.problems import PROBLEM_JSON, problem

router = APIRouter(tags=["health"])

_503 = {503: {"model": schemas.Problem, "content": {PROBLEM_JSON: {}}}}


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> schemas.Health:
    """The process is alive (it may still be loading the model)."""
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Ready, responses=_503)
def readyz(request: Request) -> schemas.Ready | JSONResponse:
    """Ready to grade: the model is loaded and the database answers."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        return problem(503, "Not ready", "the grader is still loading", request)
    try:
        return service.check_ready()  # type: ignore[no-any-return]
    except Exception as exc:
        return problem(503, "Not ready", f"the database is unreachable: {type(exc).__name__}",
                       request)  # fmt: skip
