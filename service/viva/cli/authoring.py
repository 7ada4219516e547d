"""`viva bank new` and `viva bank draft`: start a bank by hand or from questions with
reference answers (points split from the reference; with an LLM, drafted alternatives and
misconceptions, marked `draft: true` until a person checks them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from viva.cli.main import app, err, handle_errors
from viva.errors import InvalidInputError

bank_app = typer.Typer(help="Question banks: scaffold and draft.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")

SCAFFOLD = """\
# A Viva question bank. Check it with `viva rubric check {path}`.
id: {id}
title: "{title}"
version: "0.1.0"
description: ""
language: en
questions:
  - id: {id}-01
    prompt: "Replace this with your question?"
    topic: general
    difficulty: medium
    reference_answer: >-
      A model answer in a few sentences, the way a strong candidate would put it.
    points:
      # One idea per point; weights say how much each idea counts.
      - id: first-idea
        text: "The first idea a good answer makes, in one sentence."
        weight: 1
        alternatives:
          - "The same idea said another way."
      - id: second-idea
        text: "A second, different idea a good answer makes."
        weight: 1
    misconceptions:
      - id: common-error
        text: "A wrong claim candidates often make."
        penalty: 0.1
    # Graded examples anchor the score scale: answers a person has scored (0 to 1).
    examples:
      - answer: "An answer that makes the first idea but not the second."
        score: 0.5
        note: "Half of it."
"""

_PROMPT = """You help a teacher write a grading rubric. For the question below, return JSON:
{{"alternatives": {{"<point id>": ["another way a student might state this point", ...]}},
 "misconceptions": [{{"text": "a wrong claim students make",
                     "contradicts": "<point id or null>"}}]}}
Give at most 2 alternatives per point and at most 3 misconceptions.

Question: {prompt}
Reference answer: {reference}
Points:
{points}"""


@bank_app.command("new")
@handle_errors
def bank_new(
    bank_id: Annotated[str, typer.Argument(help="The bank's id, e.g. intro-ml.")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
) -> None:
    """Write a bank skeleton that passes `viva rubric check`, to fill in."""
    from viva.adapters.banks import parse_bank

    path = output or Path(f"{bank_id}.yaml")
    if path.exists():
        raise InvalidInputError(f"{path} exists; choose another path with -o")
    text = SCAFFOLD.format(id=bank_id, title=title or bank_id, path=path)
    parse_bank(yaml.safe_load(text), str(path))  # a bad id fails here, not at check time
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}; edit it, then run `viva rubric check {path}`")


def _read_questions(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    rows = list(csv.DictReader(text.splitlines(keepends=True)))
    need = {"prompt", "reference_answer"}
    found = set(rows[0]) if rows else set()
    if not rows or not need <= found:
        raise InvalidInputError(
            f"{path}: needs columns prompt and reference_answer (optional: id, topic, "
            f"difficulty); found: {', '.join(sorted(found)) or 'nothing'}"
        )
    return rows


@bank_app.command("draft")
@handle_errors
def bank_draft(
    questions: Annotated[
        Path, typer.Argument(help="CSV: prompt, reference_answer[, id, topic, difficulty]")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The draft bank (YAML).")],
    bank_id: Annotated[
        str | None, typer.Option("--id", help="Bank id (default: file name).")
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Draft alternatives and misconceptions too.")
    ] = True,
) -> None:
    """Turn questions with reference answers into a draft bank: one point per sentence of
    the reference, weights even; with an LLM configured, drafted alternatives and
    misconceptions too, marked `draft: true` until a person removes the flag."""
    from viva.core.authoring import apply_llm_draft, points_from_sentences, slug
    from viva.domain.models import Bank, Question
    from viva.settings import get_settings

    if output.exists():
        raise InvalidInputError(f"{output} exists; choose another path with -o")
    bid = bank_id or slug(questions.stem, set())
    drafted: list[Question] = []
    for n, row in enumerate(_read_questions(questions), start=2):
        prompt, ref = (row.get("prompt") or "").strip(), (row.get("reference_answer") or "")
        try:
            points = points_from_sentences(ref)
        except ValueError as exc:
            raise InvalidInputError(f"{questions}: line {n}: {exc}") from None
        qid = (row.get("id") or "").strip() or f"{bid}-{len(drafted) + 1:02d}"
        try:
            question = Question(
                id=qid,
                prompt=prompt,
                topic=(row.get("topic") or "").strip() or "general",
                difficulty=(row.get("difficulty") or "").strip() or "medium",
                reference_answer=" ".join(ref.split()),
                points=points,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInputError(f"{questions}: line {n}: {problems}") from None
        drafted.append(question)
    settings = get_settings()
    if llm and settings.llm_enabled:
        drafted = [apply_llm_draft(q, _ask(settings, q)) for q in drafted]
    elif llm:
        err("no LLM configured (VIVA_LLM_BASE_URL, VIVA_LLM_MODEL): points only")
    bank = Bank(id=bid, title=bid, version="0.1.0", questions=tuple(drafted))
    data = bank.model_dump(mode="json", exclude_defaults=True)
    data["version"] = bank.version
    output.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    n_drafts = sum(p.draft for q in drafted for p in q.points) + sum(
        m.draft for q in drafted for m in q.misconceptions
    )
    typer.echo(
        f"wrote {output}: {len(drafted)} questions, {n_drafts} drafted item(s) to check; "
        f"then `viva rubric check {output}`"
    )


def _ask(settings: Any, q: Any) -> object:
    """One chat call through the configured openai client; None on any failure."""
    from viva.adapters.llm import OpenAICompatibleJudge

    judge = OpenAICompatibleJudge.from_settings(settings)
    points = "\n".join(f"- {p.id}: {p.text}" for p in q.points)
    content = _PROMPT.format(prompt=q.prompt, reference=q.reference_answer, points=points)
    try:
        reply = judge.client.chat.completions.create(
            model=judge.model,
            messages=[{"role": "user", "content": content}],
            temperature=0,
            max_tokens=judge.max_tokens,
            response_format={"type": "json_object"},
        )
        return json.loads(reply.choices[0].message.content or "null")
    except Exception as exc:  # a draft without the LLM's part is still a draft
        err(f"warning: {q.id}: the LLM draft failed ({type(exc).__name__}); points only")
        return None
