"""Stateless grading of one answer, for integrations that keep their own state."""

from __future__ import annotations

from fastapi import APIRouter

from viva.api import schemas
from viva.api.deps import ServiceDep
from viva.api.routes import responses
from viva.domain.models import Grade

router = APIRouter(prefix="/v1", tags=["grading"])


@router.post("/grade", response_model=Grade, responses=responses(404, 413, 422))
def grade(body: schemas.GradeRequestIn, service: ServiceDep) -> Grade:
    """Grade against a bank question, or an ad-hoc question (points or a reference answer)."""
    return service.grade_one(body)
