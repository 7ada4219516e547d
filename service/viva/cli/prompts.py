"""`viva prompt list|show`: let a bank author see exactly what an LLM is sent."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from viva.cli.main import app, handle_errors

prompt_app = typer.Typer(help="LLM prompt templates: list and render.", no_args_is_help=True)
app.add_typer(prompt_app, name="prompt")


@prompt_app.command("list")
@handle_errors
def prompt_list() -> None:
    """Prompt versions found in VIVA_PROMPTS_DIR (default prompts/)."""
    from viva.adapters.prompts import list_prompts
    from viva.settings import get_settings

    d = get_settings().prompts_dir
    names = list_prompts(d)
    if not names:
        typer.echo(f"no prompts in {d}", err=True)
        raise typer.Exit(1)
    for n in names:
        typer.echo(n)


@prompt_app.command("show")
@handle_errors
def prompt_show(
    name: Annotated[str, typer.Argument(help="e.g. feedback (latest) or feedback.v1")] = "feedback",
    bank: Annotated[str, typer.Option(help="Bank id to take the question from.")] = "keras",
    question: Annotated[
        str | None, typer.Option("--question", "-q", help="Question id (default: the first).")
    ] = None,
    answer: Annotated[
        str | None,
        typer.Option("--answer", "-a", help="Sample answer (default: the reference answer)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the chat messages as JSON instead.")
    ] = False,
) -> None:
    """Render a prompt for a sample answer to a bank question, as the LLM would receive it."""
    from viva.adapters.llm import render_messages
    from viva.adapters.prompts import load_prompt
    from viva.composition import get_components

    parts = get_components()
    b = parts.banks.get(bank)
    q = b.question(question) if question else b.questions[0]
    text = answer if answer is not None else (q.reference_answer or "(no reference answer)")
    template = load_prompt(name, parts.settings.prompts_dir)
    messages, _ = render_messages(template, q, text)
    if as_json:
        typer.echo(json.dumps({"prompt": template.name, "messages": messages}, indent=2))
        return
    typer.echo(f"# prompt {template.name} · bank {b.id} v{b.version} · question {q.id}")
    for m in messages:
        typer.echo(f"\n----- {m['role']} -----")
        typer.echo(m["content"].rstrip("\n"))
