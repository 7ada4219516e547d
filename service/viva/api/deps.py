"""Dependencies for the routes, as `Annotated` aliases so signatures stay short.

The use cases live on `app.state`, put there by the lifespan in `viva.api.app` from the
composition root; until then (the model is loading) every route that needs one answers 503.
The getters are `async`: FastAPI runs a plain `def` dependency in a worker thread, a handoff
that costs more than the attribute read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request

from viva.adapters.banks import BankRepository
from viva.app.grading import Grading
from viva.app.interviews import MAX_IDEMPOTENCY_KEY, Interviews
from viva.app.quota import Quotas

STARTING = "warming up: the service is loading the model; retry shortly"


def _state(request: Request, name: str) -> Any:
    value = getattr(request.app.state, name, None)
    if value is None:
        raise HTTPException(503, STARTING)
    return value


async def get_interviews(request: Request) -> Interviews:
    interviews: Interviews = _state(request, "interviews")
    return interviews


async def get_grading(request: Request) -> Grading:
    grading: Grading = _state(request, "grading")
    return grading


async def get_banks(request: Request) -> BankRepository:
    banks: BankRepository = _state(request, "banks")
    return banks


async def get_quotas(request: Request) -> Quotas:
    quotas: Quotas = _state(request, "quotas")
    return quotas


QuotasDep = Annotated[Quotas, Depends(get_quotas)]
InterviewsDep = Annotated[Interviews, Depends(get_interviews)]
GradingDep = Annotated[Grading, Depends(get_grading)]
BanksDep = Annotated[BankRepository, Depends(get_banks)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key returns the stored result instead of "
        "grading again; the same key with a different body is refused (422). 1 to "
        f"{MAX_IDEMPOTENCY_KEY} characters, not only spaces; an empty key is refused (422).",
        # The schema states what the use case enforces, so clients and fuzzers agree.
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        pattern=r"\S",
    ),
]
