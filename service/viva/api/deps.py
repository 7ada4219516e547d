"""Dependencies for the routes, as `Annotated` aliases so signatures stay short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from viva.api.service import InterviewService
from viva.settings import Settings
from viva.settings import get_settings as _cached_settings


def get_settings() -> Settings:
    """Process-wide settings, read from the environment once; `create_app` overrides this."""
    return _cached_settings()


def get_service(request: Request) -> InterviewService:
    service: InterviewService | None = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the service is starting up (loading the model); retry shortly")
    return service


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[InterviewService, Depends(get_service)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key returns the stored result instead of "
        "grading again; the same key with a different body is refused (422).",
    ),
]
