"""`viva serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from viva.cli.main import app, handle_errors
from viva.errors import ConfigError

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
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Serve a network address with no authentication (also VIVA_INSECURE=true).",
        ),
    ] = False,
) -> None:
    """Serve the REST API (docs at /docs, schema at /openapi.json)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from viva.api.observe import json_log_config
    from viva.composition import auth_configured, get_components
    from viva.settings import get_settings

    s = get_settings()  # invalid VIVA_* settings: reported by name, exit 2 (handle_errors)

    # Fail fast, with the CLI's clear messages, on what the workers would trip over at start-up.
    parts = get_components(s)  # one worker runs in this process and reuses what is built here
    parts.check()
    repo = parts.open_repository()  # creates the schema once, before workers
    try:
        bind = host or s.host
        if not (is_loopback(bind) or insecure or s.insecure or auth_configured(s, repo)):
            raise ConfigError(
                f"refusing to serve {bind} with no authentication: anyone who can reach it "
                "could read and answer every interview. Create a key (`viva keys create "
                "--role admin --name me`), set VIVA_ADMIN_KEY_FILE or VIVA_TRUSTED_PROXIES, "
                "bind 127.0.0.1, or pass --insecure (VIVA_INSECURE=true) to run open anyway"
            )
    finally:
        repo.close()

    n = workers or s.workers
    uvicorn.run(
        APP_FACTORY,  # an import string: each worker process builds its own app
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=n,
        log_level=s.log_level,
        log_config=json_log_config(s.log_level) if s.log_format == "json" else LOGGING_CONFIG,
        # With a trusted identity proxy, Viva reads the peer and X-Forwarded-For itself:
        # uvicorn's rewrite would hide which peer sent the identity header.
        proxy_headers=not s.trusted_proxies.strip(),
        timeout_graceful_shutdown=10,
    )


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
