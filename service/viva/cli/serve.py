"""`viva serve`: the HTTP API under uvicorn, listening before the app behind it is imported."""

from __future__ import annotations

import ipaddress
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from viva.api.boot import ASGIApp, Boot
from viva.cli.main import app, handle_errors
from viva.errors import ConfigError

if TYPE_CHECKING:
    from viva.settings import Settings

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
    from uvicorn.config import LOGGING_CONFIG

    from viva.api.observe import json_log_config
    from viva.settings import get_settings

    s = get_settings()  # invalid VIVA_* settings: reported by name, exit 2 (handle_errors)
    bind = host or s.host
    n = workers or s.workers
    options: dict[str, Any] = {
        "host": bind,
        "port": port or s.port,
        "log_level": s.log_level,
        "log_config": json_log_config(s.log_level) if s.log_format == "json" else LOGGING_CONFIG,
        # With a trusted identity proxy, Viva reads the peer and X-Forwarded-For itself:
        # uvicorn's rewrite would hide which peer sent the identity header.
        "proxy_headers": not s.trusted_proxies.strip(),
        "timeout_graceful_shutdown": 10,
    }
    # Whether serving `bind` is allowed is known from the settings alone, except when only the
    # key store could say so: then (and for several workers, which must not race to create the
    # schema) check everything before listening, as the API would on start-up.
    decided = is_loopback(bind) or insecure or s.insecure or _auth_in_settings(s)
    checked = n > 1 or not decided
    if checked:
        preflight(s, bind, insecure=insecure)
    if n > 1:
        listen(APP_FACTORY, workers=n, **options)  # each worker process builds its own app
    else:
        # One process: open the port first; import, check and start the app behind it.
        listen(Boot(partial(build_app, s, bind, insecure=insecure, checked=checked)), **options)


def preflight(s: Settings, bind: str, *, insecure: bool) -> None:
    """Fail with the CLI's clear messages on what the app would trip over at start-up: the
    settings, the banks, the LLM, the database (its schema is created here, once), and an open
    network address with no authentication."""
    from viva.composition import auth_configured, get_components

    parts = get_components(s)  # one worker runs in this process and reuses what is built here
    parts.check()
    repo = parts.open_repository()
    try:
        if not (is_loopback(bind) or insecure or s.insecure or auth_configured(s, repo)):
            raise ConfigError(
                f"refusing to serve {bind} with no authentication: anyone who can reach it "
                "could read and answer every interview. Create a key (`viva keys create "
                "--role admin --name me`), set VIVA_ADMIN_KEY_FILE or VIVA_TRUSTED_PROXIES, "
                "bind 127.0.0.1, or pass --insecure (VIVA_INSECURE=true) to run open anyway"
            )
    finally:
        repo.close()


def build_app(s: Settings, bind: str, *, insecure: bool, checked: bool) -> ASGIApp:
    """The real app, built behind the open port (a thread of `Boot`)."""
    if not checked:
        preflight(s, bind, insecure=insecure)
    from viva.api.app import create_app

    return create_app(s)


def listen(target: str | Boot, *, workers: int = 1, **options: Any) -> None:
    """uvicorn: `workers` processes each importing the app factory `target`, or this process
    serving the `Boot` shell, whose failure to build the app stops the server and is reported
    like any other configuration error."""
    import uvicorn

    if isinstance(target, str):
        uvicorn.run(target, factory=True, workers=workers, **options)
        return
    server = uvicorn.Server(uvicorn.Config(target, **options))
    target.on_failure = lambda: setattr(server, "should_exit", True)
    server.run()
    if target.error is not None:
        raise ConfigError(target.error)
    if not server.started:  # e.g. the port is taken; uvicorn has said so
        raise typer.Exit(3)


def _auth_in_settings(s: Settings) -> bool:
    """Authentication that the settings turn on (the key file itself is read and checked by
    the app, before it answers anything but /healthz)."""
    return bool(s.auth_required or s.admin_key_file is not None or s.trusted_proxies.strip())


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
