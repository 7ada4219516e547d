"""The `viva` command. Domain errors become one clear message and exit code 2 here, nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from viva.errors import VivaError
from viva.settings import setting_errors

app = typer.Typer(
    name="viva",
    help="Viva: explainable rubric grading for mock interviews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rubric_app = typer.Typer(help="Question banks: validate and inspect.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Translate domain errors to a message on stderr and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VivaError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            if exc.title != "Settings":
                raise
            for line in setting_errors(exc):  # settings are validated once, on first use
                typer.echo(f"error: {line}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def err(message: str) -> None:
    typer.echo(message, err=True)


@rubric_app.command("check")
@handle_errors
def rubric_check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Bank files or folders (default: rubrics/).")
    ] = None,
) -> None:
    """Validate question banks; errors name the file, the question and the field."""
    from viva.adapters.banks import bank_files, load_bank_file
    from viva.settings import get_settings

    targets = paths or [get_settings().rubrics_dir]
    missing = [p for p in targets if not p.exists()]
    if missing:
        raise VivaError(", ".join(f"{p}: no such file or directory" for p in missing))
    files = bank_files(targets)
    if not files:
        raise VivaError(f"no .yaml banks found in {', '.join(map(str, targets))}")
    failed = 0
    for f in files:
        try:
            bank = load_bank_file(f)
        except VivaError as exc:
            failed += 1
            err(str(exc))
            continue
        n_points = sum(len(q.points) for q in bank.questions)
        typer.echo(
            f"ok  {f}: bank {bank.id} v{bank.version}, {len(bank.questions)} questions, "
            f"{n_points} points"
        )
    if failed:
        err(f"{failed} of {len(files)} bank file(s) invalid")
        raise typer.Exit(1)


# Sub-modules add their commands to `app` on import.
from viva.cli import batch, keys, model, prompts, serve  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="viva")


if __name__ == "__main__":  # pragma: no cover
    main()
