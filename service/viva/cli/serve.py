"""`viva serve`: the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from viva.cli.main import app, handle_errors

APP_FACTORY = "viva.api.app:create_app"


@app.command()
@handle_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default VIVA_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default VIVA_PORT, 8000).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes, each loading the model once."),
    ] = None,
) -> None:
    """Serve the REST API (docs at /docs, schema at /openapi.json)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from viva.api.observe import json_log_config
    from viva.composition import get_components
    from viva.settings import get_settings

    s = get_settings()  # invalid VIVA_* settings: reported by name, exit 2 (handle_errors)

    # Fail fast, with the CLI's clear messages, on what the workers would trip over at start-up.
    parts = get_components(s)  # one worker runs in this process and reuses what is built here
    parts.check()
    parts.open_repository().close()  # creates the schema once, before workers

    n = workers or s.workers
    uvicorn.run(
        APP_FACTORY,  # an import string: each worker process builds its own app
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=n,
        log_level=s.log_level,
        log_config=json_log_config(s.log_level) if s.log_format == "json" else LOGGING_CONFIG,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
