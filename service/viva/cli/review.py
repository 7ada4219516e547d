"""`viva review` (a sheet of graded answers to score), `viva review apply` (record the scores)
and `viva agreement` (how far Viva agrees with the people who reviewed)."""

from __future__ import annotations

import getpass
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from viva.cli.main import app, handle_errors
from viva.errors import InvalidInputError, VivaError


class _SheetByDefault(TyperGroup):
    """`viva review FILE` means `viva review sheet FILE`; `viva review apply` stays a command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["sheet", *args]
        return super().parse_args(ctx, args)


review_app = typer.Typer(
    cls=_SheetByDefault,
    help="Human review: a sheet to score graded answers, then record the scores.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")


def _open_reviews() -> Any:
    from viva.app.human_review import HumanReviews
    from viva.settings import get_settings
    from viva.store import open_database
    from viva.store.reviews import ReviewStore

    return HumanReviews(ReviewStore(open_database(get_settings().resolved_database_url)))


def _grade_records(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}: line {n}: not JSON ({exc.msg})") from None
        if not isinstance(rec, dict) or "question_id" not in rec or "score" not in rec:
            raise InvalidInputError(f"{path}: line {n}: not a `viva grade` JSONL record")
        out.append(rec)
    return out


@review_app.command("sheet")
@handle_errors
def review_sheet(
    grades: Annotated[Path, typer.Argument(help="Grades from `viva grade ... -o GRADES.jsonl`.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="review.csv or review.html")],
    answers: Annotated[
        Path | None,
        typer.Option("--answers", help="The answers file that was graded (for the answer text)."),
    ] = None,
) -> None:
    """Write a sheet of graded answers where a person gives their own score and a note."""
    from viva.adapters import review_sheet as sheet

    if output.suffix.lower() not in (".csv", ".html", ".htm"):
        raise InvalidInputError(f"{output}: the sheet is .csv or .html")
    texts: dict[str, str] = {}
    if answers is not None:
        from viva.adapters.answer_files import read_rows
        from viva.app.batch import row_id

        texts = {row_id(r): str(r.data.get("answer") or "") for r in read_rows(answers)}
    rows = sheet.rows_from_grades(_grade_records(grades), texts, grades)
    if output.suffix.lower() == ".csv":
        n = sheet.write_csv(rows, output)
    else:
        n = sheet.write_html(rows, output)
    typer.echo(f"{n} graded answers in {output}; fill in your_score (0-1) and note, then run "
               f"`viva review apply {output.with_suffix('.csv').name}`", err=True)  # fmt: skip


@review_app.command("apply")
@handle_errors
def review_apply(
    sheet_path: Annotated[Path, typer.Argument(help="A filled review sheet (CSV).")],
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="Who reviewed (default: your login).")
    ] = None,
) -> None:
    """Record the scores in a sheet, with who and when; the answers become graded examples."""
    from viva.adapters import review_sheet as sheet
    from viva.store.reviews import NewReview

    rows = sheet.read_csv(sheet_path)
    who = reviewer or getpass.getuser()
    reviews = [
        NewReview(
            source="sheet",
            item=r.id,
            bank_id=r.bank_id,
            bank_version=r.bank_version,
            question_id=r.question_id,
            answer=r.answer,
            viva_score=r.viva_score,
            score=r.your_score if r.your_score is not None else r.viva_score,
            note=r.note,
            reviewer=who,
        )
        for r in rows
    ]
    n = _open_reviews().record(reviews)
    typer.echo(f"recorded {n} review(s) by {who}; the next grades of these questions use them")


def _f(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.2f}"


@app.command("agreement")
@handle_errors
def agreement(
    bank: Annotated[str | None, typer.Option("--bank", help="Only this bank.")] = None,
    worst: Annotated[int, typer.Option("--worst", min=0, help="Disagreements to list.")] = 10,
) -> None:
    """Viva-versus-human agreement on the reviewed answers: per bank and per question."""
    from viva.core.agreement import report

    pairs = _open_reviews().pairs(bank)
    if not pairs:
        raise VivaError("no reviewed answers yet: `viva review apply` or the API's review first")
    r = report(pairs, worst=worst)
    typer.echo(f"{'bank / question':32} {'n':>4} {'pearson':>7} {'qwk':>5} {'mae':>5} {'bias':>5}")
    for b, a in r.by_bank.items():
        typer.echo(f"{b:32} {a.n:4d} {_f(a.pearson):>7} {_f(a.qwk)} {_f(a.mae)} {_f(a.bias)}")
        for (qb, q), qa in r.by_question.items():
            if qb == b:
                typer.echo(
                    f"  {q:30} {qa.n:4d} {_f(qa.pearson):>7} {_f(qa.qwk)} {_f(qa.mae)} "
                    f"{_f(qa.bias)}"
                )
    if r.worst:
        typer.echo("\nlargest disagreements (Viva -> person):")
        for p in r.worst:
            text = " ".join(p.answer.split())
            text = text if len(text) <= 70 else text[:69] + "…"
            typer.echo(
                f"  {p.viva:.2f} -> {p.human:.2f}  {p.bank_id}/{p.question_id}  "
                f"[{p.item or ''}] {text}" + (f"  ({p.note})" if p.note else "")
            )
