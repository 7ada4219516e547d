"""Stateless grading of one answer, for integrations that keep their own state."""

from __future__ import annotations

from fastapi import APIRouter, Response

from viva.api import schemas
from viva.api.auth import PrincipalDep, require
from viva.api.deps import GradingDep
from viva.api.queue import GradingSlot
from viva.api.routes import responses
from viva.app.auth import is_staff
from viva.app.grading import AdHocPoint, AdHocQuestion
from viva.domain.models import Grade

router = APIRouter(prefix="/v1", tags=["grading"])


def _adhoc(q: schemas.AdHocQuestion) -> AdHocQuestion:
    points = None
    if q.points:
        points = [
            AdHocPoint(text=p.text, id=p.id, weight=p.weight, alternatives=p.alternatives)
            for p in q.points
        ]
    return AdHocQuestion(
        prompt=q.prompt, reference_answer=q.reference_answer, points=points, topic=q.topic
    )


@router.post("/grade", response_model=Grade, responses=responses(401, 403, 404, 413, 422, 429, 503))
def grade(
    body: schemas.GradeRequestIn,
    grading: GradingDep,
    principal: PrincipalDep,
    _slot: GradingSlot,
) -> Response:
    """Grade against a bank question, or an ad-hoc question (points or a reference answer).
    With authentication on, for interviewers and admins: a bank grade shows rubric texts."""
    require(is_staff(principal), "grading outside an interview is for interviewers and admins")
    result = grading.grade(
        body.answer,
        bank_id=body.bank_id,
        question_id=body.question_id,
        question=_adhoc(body.question) if body.question is not None else None,
    )
    # Serialised here, in the route's worker thread, as `response_model` would (by alias): the
    # grader built a valid Grade, and FastAPI would validate it again in another thread hop.
    return Response(result.model_dump_json(by_alias=True), media_type="application/json")
