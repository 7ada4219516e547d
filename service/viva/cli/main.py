"""The `viva` command. Domain errors become one clear message and exit code 2 here, nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core
from pydantic import ValidationError

from viva import __version__
from viva.errors import VivaError
from viva.settings import setting_errors


def _plain_help() -> None:
    """Help in the usual Unix style: no `<bool>` after a flag, `ANSWERS` rather than
    `{answers}` in the usage line (typer 0.2x's own spellings)."""
    option, argument = typer.core.TyperOption, typer.core.TyperArgument
    shown_type = option.display_type_rich

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if self.is_flag else shown_type(self, ctx)

    def usage_name(self: Any) -> str:
        name = self.metavar or self.name.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    option.display_type_rich = display_type_rich  # type: ignore[method-assign]
    argument._usage_display_name = usage_name  # type: ignore[method-assign]


_plain_help()

app = typer.Typer(
    name="viva",
    help="Viva: explainable rubric grading for mock interviews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"viva {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Viva: explainable rubric grading for mock interviews."""


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
    from viva.core.wording import counted
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
            f"ok  {f}: bank {bank.id} v{bank.version}, "
            f"{counted(len(bank.questions), 'question')}, {counted(n_points, 'point')}"
        )
        from viva.core.authoring import warnings

        for q in bank.questions:
            for w in warnings(q):
                typer.echo(f"warn {f}: question {w.question_id}: {w.message}")
    if failed:
        err(f"{failed} of {counted(len(files), 'bank file')} invalid")
        raise typer.Exit(1)


# Sub-modules add their commands to `app` on import.
from viva.cli import authoring, batch, keys, model, prompts, review, serve  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="viva")


if __name__ == "__main__":  # pragma: no cover
    main()
