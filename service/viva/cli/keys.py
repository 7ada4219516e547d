"""`viva keys` (API keys), `viva purge` (retention) and `viva export` (one candidate's data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from viva.cli.main import app, handle_errors

if TYPE_CHECKING:
    from viva.store import Repository

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _open() -> Repository:
    """The migrated repository for VIVA_DATABASE_URL (no model is loaded)."""
    from viva.composition import get_components

    return get_components().open_repository()


@keys_app.command("create")
@handle_errors
def keys_create(
    role: Annotated[str, typer.Option(help="admin, interviewer or candidate.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
) -> None:
    """Create a key and print it once: only its argon2 hash is stored."""
    from viva.app.auth import Keys
    from viva.store.keys import KeyStore

    repo = _open()
    try:
        made = Keys(KeyStore(repo.db)).create(role, name)
    finally:
        repo.close()
    typer.echo(made.key)
    typer.echo(
        f"created {made.record.role} key {made.record.id} ({made.record.name}); "
        "it is shown only now. Send it as `Authorization: Bearer KEY`.",
        err=True,
    )


@keys_app.command("list")
@handle_errors
def keys_list() -> None:
    """Every key: id, role, name, created, revoked."""
    from viva.app.auth import Keys
    from viva.store.keys import KeyStore

    repo = _open()
    try:
        records = Keys(KeyStore(repo.db)).list()
    finally:
        repo.close()
    for k in records:
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "active"
        created = k.created_at.isoformat(timespec="seconds")
        typer.echo(f"{k.id}\t{k.role}\t{k.name}\t{created}\t{revoked}")


@keys_app.command("revoke")
@handle_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id `viva keys list` shows.")],
) -> None:
    """Revoke a key; servers using this database refuse it within 5 s."""
    from viva.app.auth import Keys
    from viva.store.keys import KeyStore

    repo = _open()
    try:
        record = Keys(KeyStore(repo.db)).revoke(key_id)
    finally:
        repo.close()
    typer.echo(f"revoked {record.role} key {record.id} ({record.name})")


@app.command()
@handle_errors
def purge(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Delete older interviews (default VIVA_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Delete interviews (answers and grades too) older than the retention period."""
    from viva.app import retention
    from viva.settings import get_settings

    n = days or get_settings().retention_days
    if n is None:
        typer.echo("error: give --days or set VIVA_RETENTION_DAYS", err=True)
        raise typer.Exit(2)
    repo = _open()
    try:
        purged = retention.purge(repo, n)
    finally:
        repo.close()
    typer.echo(f"purged {purged} interviews older than {n} days")


@app.command()
@handle_errors
def export(
    candidate: Annotated[str, typer.Argument(help="The candidate name interviews were made for.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export every interview, answer and grade stored for one candidate, as JSON."""
    from viva.app import retention

    repo = _open()
    try:
        data = retention.export_candidate(repo, candidate)
    finally:
        repo.close()
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
