"""The HTTP API (FastAPI). `create_app` is the factory uvicorn and the tests use.

Imported lazily: `viva serve` opens its port with `viva.api.boot` (and reads the log format from
`viva.api.observe`) before FastAPI, the routes and the database layer are imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viva.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from viva.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
