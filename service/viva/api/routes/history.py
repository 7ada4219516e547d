"""History: the caller's own interviews, newest first, and per-topic progress on a bank."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from viva.api import schemas
from viva.api.auth import PrincipalDep
from viva.api.deps import InterviewsDep
from viva.api.routes import responses
from viva.app.auth import Principal
from viva.app.history import MAX_LIMIT, History, Scope

router = APIRouter(tags=["history"])


def _scope(p: Principal) -> Scope:
    """Open local mode sees every interview; a link holder its one; anyone else their own."""
    if p.open:
        return Scope(owner=None, everyone=True)
    if p.via == "link":
        return Scope(owner=None, only=p.interview_id)
    return Scope(owner=p.subject)


@router.get(
    "/v1/interviews", response_model=schemas.InterviewList, responses=responses(401, 422, 429)
)
def list_interviews(
    service: InterviewsDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> schemas.InterviewList:
    """Your interviews, newest first; pass `next_cursor` back as `cursor` for the next page."""
    items, nxt = History(service).page(_scope(principal), limit=limit, cursor=cursor)
    return schemas.InterviewList(
        items=[schemas.InterviewSummary(**vars(s)) for s in items], next_cursor=nxt
    )


@router.get("/v1/progress", response_model=schemas.ProgressOut, responses=responses(401, 422, 429))
def progress(
    service: InterviewsDep,
    principal: PrincipalDep,
    bank_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> schemas.ProgressOut:
    """Per-topic scores of your completed interviews on one bank, oldest first."""
    trends = History(service).progress(_scope(principal), bank_id)
    return schemas.ProgressOut(
        bank_id=bank_id,
        topics=[
            schemas.TopicProgress(
                topic=t.topic,
                name=t.name,
                points=[schemas.ProgressPoint(**vars(p)) for p in t.points],
            )
            for t in trends
        ],
    )
