"""One router per resource, and the problem responses they document in /openapi.json."""

from __future__ import annotations

from typing import Any

from viva.api.problems import PROBLEM_JSON
from viva.api.schemas import Problem

_WHY = {
    401: "Authentication is on and no valid key or link was sent.",
    403: "The caller's role may not do this.",
    404: "Unknown bank, interview or question (or someone else's interview).",
    409: "The interview is in the wrong state for this request.",
    413: "The body is larger than VIVA_MAX_BODY_BYTES.",
    422: "Invalid request; `errors` names each field.",
    429: "Rate limit exceeded; retry after `Retry-After` seconds.",
    503: "Unavailable: the model is loading, the database cannot store data, or the grading "
    "queue is full (see Retry-After).",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        c: {
            "model": Problem,
            "description": _WHY.get(c, ""),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for c in codes
    }
