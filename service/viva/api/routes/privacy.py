"""Privacy: everything stored about one candidate, as JSON (admins; anyone in open mode)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from viva.api.auth import PrincipalDep, require
from viva.api.deps import InterviewsDep
from viva.api.routes import responses
from viva.app import retention

router = APIRouter(prefix="/v1/candidates", tags=["privacy"])


@router.get("/{candidate}/export", responses=responses(401, 403, 429))
def export_candidate(
    candidate: str, service: InterviewsDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Every interview, answer and grade stored under this candidate name."""
    admin = principal.role == "admin" and principal.via != "link"
    require(principal.open or admin, "exports are for admins")
    return retention.export_candidate(service.repo, candidate)
