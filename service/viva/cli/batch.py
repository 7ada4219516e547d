"""`viva grade`, `viva calibrate`, `viva eval`: grading and measuring files of answers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from viva.adapters.answer_files import (
    READER_SUFFIXES,
    READERS,
    WRITERS,
    ReportWriter,
    Spool,
    StreamWriter,
    Writer,
    Written,
    count_rows,
    iter_rows,
    parse_delimiter,
    scan_rows,
    writer_for,
)
from viva.adapters.answer_files.platforms import (
    IMPORT_FORMATS,
    ColumnOptions,
    detect_format,
)
from viva.adapters.answer_files.registry import known_formats
from viva.adapters.answer_files.tables import header_of, is_xlsx
from viva.cli.main import app, err, handle_errors
from viva.errors import InvalidInputError


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silence in pipes and CI logs."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _writer_for(output: Path | None, name: str | None) -> Writer | None:
    """The writer for `--output`, checked before any grading starts."""
    if output is None:
        if name is not None:
            raise InvalidInputError("--output-format needs --output FILE")
        return None
    return writer_for(output, name)


def _check_output(answers: Path, output: Path) -> None:
    """Stop before any grading if `output` is the input or cannot be written."""
    if output.is_dir():
        raise InvalidInputError(f"{output}: is a directory; --output needs a file")
    same = output.resolve() == answers.resolve()
    if not same and output.exists() and answers.exists():
        same = os.path.samefile(output, answers)  # hard links, or another way to the same file
    if same:
        raise InvalidInputError(f"{output}: is the input file; refusing to write over it")
    if not output.parent.is_dir():
        raise InvalidInputError(f"{output}: cannot write: {output.parent} is not a directory")
    existed = output.exists()
    try:
        with output.open("a", encoding="utf-8"):  # appends nothing: an existing file is kept
            pass
    except OSError as exc:
        raise InvalidInputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if not existed:
        output.unlink()


MAX_ERRORS_SHOWN = 100  # row errors named on stderr; the rest are counted

EXIT_CODES = (
    "Exit codes: 0 every row graded; 1 some rows failed (each named on stderr, with a "
    "count); 2 unusable input or arguments (nothing graded)."
)


@app.command(epilog=EXIT_CODES)
@handle_errors
def grade(
    answers: Annotated[
        Path,
        typer.Argument(
            help="JSONL or CSV with question_id and answer, or a response sheet (CSV/XLSX) from "
            "Google or Microsoft Forms, Moodle or Canvas."
        ),
    ],
    bank: Annotated[str, typer.Option("--bank", "-b", help="Question bank id.")] = "keras",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write .jsonl, .csv, .md or .html (by extension, or --output-format). "
            "Checked before grading; never the input file. An existing file is overwritten "
            "unless --resume.",
        ),
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm", help="Ask the configured LLM for feedback.")
    ] = False,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="NAME",
            help=f"Input format: {' | '.join([*READERS, *IMPORT_FORMATS])} (default: by the "
            "file's suffix and header).",
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            metavar="NAME",
            help=f"Output format: {' | '.join(WRITERS)} (default: by the --output suffix).",
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            metavar="CHAR",
            help="CSV input delimiter: ',' ';' or 'tab' (default: detected from the header).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted .jsonl/.csv --output: keep its rows, grade only the "
            "ids it does not have yet.",
        ),
    ] = False,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar='"TITLE=ID"',
            help='Confirm which bank question a sheet\'s column asks: "Column title=keras-05" '
            "(Canvas: its question id may stand for the title; '=-': not a question). "
            "Repeatable.",
        ),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="One respondent per row, one column per question."),
    ] = False,
    id_col: Annotated[
        str | None, typer.Option("--id-col", metavar="COLUMN", help="Column with row ids.")
    ] = None,
    candidate_col: Annotated[
        str | None,
        typer.Option("--candidate-col", metavar="COLUMN", help="Column naming the candidate."),
    ] = None,
    question_col: Annotated[
        str | None,
        typer.Option(
            "--question-col",
            metavar="COLUMN",
            help="Long sheets: column with the question id or wording.",
        ),
    ] = None,
    answer_col: Annotated[
        str | None,
        typer.Option("--answer-col", metavar="COLUMN", help="Long sheets: column with answers."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="NAME",
            help="default: grade in this process | ray: on Ray Data, one grader per actor, on "
            "a local Ray or the cluster at RAY_ADDRESS (pip install 'viva[ray]').",
        ),
    ] = "default",
) -> None:
    """Grade a file of answers against a question bank.

    Rows are read and written as they are graded, so memory stays flat on any file size and an
    interrupted run keeps every finished batch (continue it with --resume).
    """
    from viva.app.batch import grade_chunks, review_rows, skip_written, spooled_reports
    from viva.composition import get_components

    ray_engine = _engine(engine)
    writer = _writer_for(output, output_format)
    sep = None if delimiter is None else parse_delimiter(delimiter)
    if resume and not isinstance(writer, StreamWriter):
        raise InvalidInputError("--resume needs --output FILE.jsonl or FILE.csv")
    if output is not None:
        _check_output(answers, output)
    parts = get_components()
    settings = parts.settings
    the_bank = parts.banks.get(bank)
    options = ColumnOptions(id_col, candidate_col, question_col, answer_col)
    sheet = import_format(answers, input_format, sep, options, wide)
    columns: list[str] = []  # pass-through fields, for a CSV output's columns
    if sheet is None:
        total = scan_rows(answers, input_format, delimiter=sep, columns=columns)
        source = lambda: iter_rows(answers, input_format, delimiter=sep)  # noqa: E731
    else:
        plan = _plan(answers, sheet, the_bank, parts.grader.embedder, maps, options, sep)
        total = count_rows(plan.rows(), answers, columns)  # unusable input stops here
        source = plan.rows
    if llm and not settings.llm_enabled:
        raise InvalidInputError(
            "--llm needs an LLM: set VIVA_LLM_BASE_URL and VIVA_LLM_MODEL (see README)"
        )
    reviewer = parts.reviewer if llm else None  # builds the judge: bad VIVA_LLM_* stop here
    grader = parts.grader if ray_engine is None else None  # Ray's actors build their own...
    if ray_engine is not None:
        parts.check()  # ...so bad settings are named here, before Ray starts (loads no model)
    done = Written()
    if resume and isinstance(writer, StreamWriter) and output is not None:
        done = writer.written(output)
        if done.rows:
            typer.echo(f"resuming: {done.rows} rows already in {output}")
    rows = lambda: skip_written(source(), done.ids)  # noqa: E731 (Ray reads it remotely)
    graded, failed = done.rows, done.failed
    errors: list[str] = []  # the first few, shown at the end; the rest are counted
    table: list[Any] = []  # only without --output: the terminal summary lists every row
    with ExitStack() as stack:
        if grader is not None:
            chunks = grade_chunks(rows(), the_bank, grader, max_chars=settings.max_answer_chars)
        else:
            stack.enter_context(ray_engine.connected())  # before the output is opened
            chunks = ray_engine.grade_chunks(rows, the_bank, settings)
        sink = spool = None
        if isinstance(writer, StreamWriter) and output is not None:
            sink = stack.enter_context(writer.open(output, append=resume, columns=columns))
        elif output is not None:
            spool = stack.enter_context(Spool())
        advance = stack.enter_context(_progress(total, "grading"))
        advance(min(done.rows, total))
        try:
            for chunk in chunks:
                if reviewer is not None:
                    review_rows(chunk, the_bank, reviewer)
                if sink is not None:
                    sink.write([r.record() for r in chunk])
                elif spool is not None:
                    for r in chunk:
                        spool.add(r.candidate or "anonymous", r.spool_record())
                else:
                    table.extend(chunk)
                for r in chunk:
                    if r.error:
                        failed += 1
                        if len(errors) < MAX_ERRORS_SHOWN:
                            errors.append(r.error)
                graded += len(chunk)
                advance(len(chunk))
        except KeyboardInterrupt:
            if sink is None:
                raise
            err(f"interrupted: {graded} rows are in {output}; add --resume to continue")
            raise typer.Exit(130) from None
        if spool is not None and isinstance(writer, ReportWriter) and output is not None:
            writer.write(
                output, spooled_reports(spool.groups(), the_bank), f"Viva report — {answers.name}"
            )
    for message in errors:
        err(f"skipped {message}")
    if failed > len(errors) + done.failed:
        err(f"… and {failed - len(errors) - done.failed} more")
    if output is None:
        _print_summary(table, the_bank)
    else:
        typer.echo(f"graded {graded - failed} of {graded} rows → {output}")
    if failed:
        err(f"{failed} of {graded} rows failed")
        raise typer.Exit(1)


ENGINES = ("default", "ray")


def _engine(name: str) -> Any:
    """None for the default engine; for `ray`, its adapter (exit 2 if Ray is not installed)."""
    if name not in ENGINES:
        raise InvalidInputError(f"--engine takes {' or '.join(ENGINES)}, not {name!r}")
    if name == "default":
        return None
    try:
        from viva.adapters import ray_engine
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "ray":
            raise
        raise InvalidInputError(
            "--engine ray needs Ray, which is not installed: pip install 'viva[ray]'"
        ) from None
    return ray_engine


@app.command(epilog="Exit codes: 0 written; 2 unusable input or arguments.")
@handle_errors
def gradebook(
    grades: Annotated[Path, typer.Argument(help="What `viva grade -o` wrote: .jsonl, or .csv.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write.")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="KIND",
            help="summary (one row per candidate, a column per question) | moodle (grade "
            "import CSV) | canvas (gradebook CSV).",
        ),
    ] = "summary",
    points: Annotated[
        float,
        typer.Option("--points", min=0.0, help="The points a full score is worth."),
    ] = 100.0,
    item: Annotated[
        str,
        typer.Option("--item", help="The grade item (Moodle) or assignment (Canvas) column."),
    ] = "Viva",
) -> None:
    """Per-candidate grades from a graded run: a summary, or a gradebook Moodle or Canvas imports.

    A candidate's grade is the mean score over every question in the run (unanswered and
    failed ones count as 0) times --points.
    """
    from viva.adapters.answer_files.gradebooks import GRADEBOOKS, read_graded, write_gradebook
    from viva.app.gradebook import totals

    if to not in GRADEBOOKS:
        raise InvalidInputError(f"--to takes {', '.join(GRADEBOOKS)}, not {to!r}")
    if not grades.is_file():
        raise InvalidInputError(f"{grades}: no such file")
    _check_output(grades, output)
    result = totals(read_graded(grades))
    if not result.candidates:
        raise InvalidInputError(f"{grades}: no graded rows")
    write_gradebook(output, to, result, points, item)
    typer.echo(
        f"{len(result.candidates)} candidates, {len(result.questions)} questions, "
        f"out of {points:g} points → {output}"
    )


def _plan(
    answers: Path,
    fmt: str,
    bank: Any,
    embedder: Any,
    maps: list[str] | None,
    options: ColumnOptions,
    sep: str | None,
) -> Any:
    """The sheet's questions matched to the bank; the table is shown, and a match that needs
    confirming stops the run (exit 2) with the `--map` flags that would confirm it."""
    from viva.app.importing import plan_import, unconfirmed_message

    plan = plan_import(
        answers, fmt, bank, embedder, maps=maps or (), options=options, delimiter=sep
    )
    _print_matches(plan, fmt)
    if not plan.confirmed:
        what = "value" if not plan.layout.wide else "column"
        raise InvalidInputError(unconfirmed_message(plan.matches, what))
    return plan


def _print_matches(plan: Any, fmt: str) -> None:
    from rich.console import Console
    from rich.table import Table

    what = "question column" if plan.layout.wide else "question value"
    table = Table(title=f"{plan.path.name} read as {fmt}: {what}s → bank questions")
    for col in ("column" if plan.layout.wide else "value", "question", "similarity", "how", ""):
        table.add_column(col)
    for m in plan.matches:
        sim = "" if m.similarity is None else f"{m.similarity:.2f}"
        how = {"id": "bank id", "map": "--map", "similarity": "matched"}[m.how]
        note = "needs --map: " + m.problem if m.problem else ""
        shown = m.title if m.text == m.title else f"{m.title} ({m.text})"
        table.add_row(shown, m.question_id or "—", sim, how, note)
    Console(stderr=True, width=max(100, Console().width)).print(table)


def import_format(
    path: Path, name: str | None, sep: str | None, options: ColumnOptions, wide: bool
) -> str | None:
    """The importer a file needs (None: the plain JSONL/CSV readers): `--wide`, a `--format`
    naming one, column options, an .xlsx, or a CSV header a platform writes."""
    if wide:
        if name not in (None, "wide"):
            raise InvalidInputError(f"--wide and --format {name} disagree; give one of them")
        return "wide"
    if name is not None:
        if name.lower() in IMPORT_FORMATS:
            return name.lower()
        if name.lower() not in READERS:
            raise InvalidInputError(
                f"unknown input format {name!r}; {known_formats(READERS, READER_SUFFIXES)}, "
                f"{', '.join(IMPORT_FORMATS)} (.xlsx)"
            )
        return "long" if options.given() and name.lower() == "csv" else None
    if options.given():
        return "long"
    if is_xlsx(path):
        return detect_format(header_of(path)) or "long"
    if path.suffix.lower() == ".zip":
        return "moodle"  # an assignment's submissions
    if path.suffix.lower() in (".csv", ".tsv", ".txt") and path.is_file():
        return detect_format(header_of(path, sep))
    return None


def _print_summary(graded: list[Any], bank: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{bank.title} (bank {bank.id} v{bank.version})")
    for col in ("id", "candidate", "question", "score", "covered", "flags"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for r in graded:
        if r.grade is None:
            table.add_row(
                r.id, r.candidate or "", r.question_id or "", "—", "", f"error: {r.error}"
            )
            continue
        g = r.grade
        table.add_row(
            r.id,
            r.candidate or "",
            r.question_id or "",
            f"{g.score:.2f}",
            f"{len(g.covered)}/{len(g.points)}",
            ", ".join(
                f"{f}: reads as {g.other_question.id}"
                if f == "other_question" and g.other_question
                else f
                for f in g.flags
            ),
        )
    Console(width=max(100, Console().width)).print(table)


def _eval_setup(
    data: Path | list[Path], calibration: Path | None, anchors: int = 0
) -> tuple[Any, Any, Any, Any]:
    from viva.adapters.calibration_file import load_calibration
    from viva.app.evaluation import compute_features, load_graded
    from viva.composition import get_components

    paths = data if isinstance(data, list) else [data]
    items = [it for path in paths for it in load_graded(path, anchors=anchors)]
    grader = get_components().grader
    cal = load_calibration(calibration) if calibration else grader.calibration
    with _progress(len(items), "embedding") as advance:
        feats = compute_features(grader, items, progress=advance)
    return items, grader, cal, feats


@app.command()
@handle_errors
def calibrate(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="Graded JSONL files: question, reference_answer, answer, score (+max_score) "
            "or label."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Calibration JSON to write.")],
    banks: Annotated[
        bool,
        typer.Option(
            "--banks/--no-banks",
            help="Also fit the floor, the misconception threshold and the stretch of covered "
            "points on the banks' graded examples.",
        ),
    ] = True,
) -> None:
    """Fit the similarity→coverage mapping (and a pass threshold for labels) to human grades,
    from scratch: nothing is inherited from the calibration in use."""
    from viva.adapters.calibration_file import save_calibration
    from viva.app.evaluation import fit, fit_on_banks, refit_pass_threshold, report, scores
    from viva.composition import get_components
    from viva.core.calibration import Calibration, stamped

    items, grader, _, feats = _eval_setup(data, None)
    cal = fit(items, feats, Calibration(), ", ".join(p.name for p in data))
    if banks:
        bank_repo = get_components().banks
        cal = fit_on_banks(grader, bank_repo.all(), cal)
        cal = refit_pass_threshold(items, feats, cal)
    cal = stamped(cal)
    save_calibration(cal, output)
    typer.echo(
        f"wrote {output} ({cal.id}); weights {dict(cal.weights)}, bias {cal.bias}"
        + (f", pass threshold {cal.pass_threshold}" if cal.pass_threshold is not None else "")
    )
    typer.echo("in-sample figures (optimistic; use `viva eval --cross-validate` for honest ones):")
    _print_metrics(report(items, scores(grader, feats, cal), cal))


_CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", help="Guard corpus YAML (default: the one Viva ships)."),
]


@app.command("fit-guard")
@handle_errors
def fit_guard_command(
    data: Annotated[
        list[Path],
        typer.Argument(help="Graded JSONL files whose answers are innocent sentences."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Injection head JSON to write.")],
    corpus: _CorpusOption = None,
) -> None:
    """Fit the injection head (the guard that reads a sentence's meaning) from scratch: the
    corpus's grader-directed sentences against the data's and the banks' answers."""
    from viva.app.evaluation import fit_guard

    _fit_head(fit_guard, data, output, corpus, "grader-directed sentences", "answer sentences")


@app.command("fit-vague")
@handle_errors
def fit_vague_command(
    data: Annotated[
        list[Path],
        typer.Argument(help="Graded JSONL files; the sentences of their strong answers."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Vagueness head JSON to write.")],
    corpus: _CorpusOption = None,
) -> None:
    """Fit the vagueness head (names filler that earned little) from scratch: the corpus's
    filler sentences against the sentences of strong answers in the data and the banks."""
    from viva.app.evaluation import fit_vague

    _fit_head(fit_vague, data, output, corpus, "filler sentences", "sentences of strong answers")


def _fit_head(
    fit: Callable[..., tuple[Any, dict[str, int]]],
    data: list[Path],
    output: Path,
    corpus: Path | None,
    positives: str,
    negatives: str,
) -> None:
    from viva.adapters.calibration_file import save_head
    from viva.composition import get_components

    comps = get_components()
    default = Path(str(resources.files("viva").joinpath("data/guard_corpus.yaml")))
    head, counts = fit(comps.grader, corpus or default, data, comps.banks.all())
    save_head(head, output)
    typer.echo(
        f"wrote {output} ({head.version}); {counts['positive']} {positives}, "
        f"{counts['negative']} {negatives}; threshold {head.threshold}"
    )


@app.command("eval")
@handle_errors
def evaluate(
    data: Annotated[Path, typer.Argument(help="Graded JSONL (see `viva calibrate`).")],
    calibration: Annotated[
        Path | None,
        typer.Option("--calibration", "-c", help="Calibration JSON (default: built-in)."),
    ] = None,
    cross_validate: Annotated[
        str | None,
        typer.Option(
            "--cross-validate", help="Fit on the rest, grade each 'question' or 'dataset' held out."
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON.")
    ] = None,
    anchors: Annotated[
        int,
        typer.Option(
            "--anchors",
            min=0,
            help="Use each question's first K rows as its graded examples; report on the rest.",
        ),
    ] = 0,
    folds: Annotated[
        int,
        typer.Option(
            "--folds",
            min=2,
            help="With --cross-validate: at most this many folds (questions are never split).",
        ),
    ] = 50,
) -> None:
    """Grade every row and report agreement with the human grades, per data set and overall."""
    from viva.app.evaluation import cross_validate as run_cv
    from viva.app.evaluation import report, scores

    if cross_validate not in (None, "question", "dataset"):
        raise InvalidInputError("--cross-validate takes 'question' or 'dataset'")
    items, grader, cal, feats = _eval_setup(data, calibration, anchors)
    if cross_validate:
        held = run_cv(grader, items, feats, cal, by=cross_validate, max_folds=folds)
        figures = report(items, held.scores, cal, held.passed)
    else:
        figures = report(items, scores(grader, feats, cal), cal)
    mode = f"held out by {cross_validate}" if cross_validate else f"calibration {cal.id}"
    if anchors:
        mode += f", {anchors} anchors per question"
    typer.echo(f"{data.name}: {len(items)} answers, {mode}")
    _print_metrics(figures)
    if json_out:
        json_out.write_text(
            json.dumps(
                {"data": str(data), "mode": mode, "calibration": cal.id, "metrics": figures},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


def _print_metrics(figures: dict[str, dict[str, float]]) -> None:
    cols = ["n", "pearson", "spearman", "rmse", "qwk", "accuracy", "macro_f1"]
    if any("pearson_a_vs_b" in m for m in figures.values()):
        cols += ["pearson_grader_a", "pearson_grader_b", "pearson_a_vs_b"]
    width = max(len("set"), *(len(n) for n in figures))
    typer.echo("  ".join([f"{'set':<{width}}", *(f"{c:>9}" for c in cols)]))
    for name, m in figures.items():
        cells = [f"{name:<{width}}"]
        for c in cols:
            v = m.get(c)
            cells.append(
                f"{'—':>9}" if v is None else (f"{int(v):>9d}" if c == "n" else f"{v:>9.3f}")
            )
        typer.echo("  ".join(cells))
