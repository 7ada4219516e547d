"""Batch grading of answer rows: the application logic behind `viva grade`.

Rows are read lazily and graded in chunks (one model batch each), and each chunk is handed on
as it finishes, so memory stays flat on any file size and a failure or a kill later in a long
file never loses what was already graded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from viva.adapters.answer_files import KNOWN, RawRow
from viva.app.review import Item, Progress, Reviewer
from viva.core.grader import Grader, GradeRequest
from viva.core.report import build_report
from viva.domain.models import Bank, Grade, QuestionReport, Report
from viva.errors import QuestionNotFoundError


@dataclass
class GradedRow:
    row: int
    id: str
    candidate: str | None
    question_id: str | None
    answer: str | None
    passthrough: dict[str, Any]
    grade: Grade | None = None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "row": self.row,
            "id": self.id,
            "candidate": self.candidate,
            "question_id": self.question_id,
            "answer": self.answer,  # so a review sheet needs only this file, whatever the input
        }
        if self.grade is None:
            return {**base, "score": None, "error": self.error, "input": self.passthrough}
        g = self.grade.model_dump(mode="json")
        prov = g.pop("provenance")
        return {
            **base,
            "score": g.pop("score"),
            **g,
            "bank_id": prov["bank_id"],
            "bank_version": prov["bank_version"],
            "model": prov["model"],
            "grader_version": prov["grader_version"],
            "calibration": prov["calibration"],
            "guard": prov.get("guard"),
            "prompt": prov.get("prompt"),
            "llm_model": prov.get("llm_model"),
            "input": self.passthrough,
        }

    def spool_record(self) -> dict[str, Any]:
        """Everything a report needs, as JSON (`from_spool` reads it back)."""
        return {
            "row": self.row,
            "id": self.id,
            "candidate": self.candidate,
            "question_id": self.question_id,
            "answer": self.answer,
            "error": self.error,
            "grade": None if self.grade is None else self.grade.model_dump(mode="json"),
        }

    @classmethod
    def from_spool(cls, d: dict[str, Any]) -> GradedRow:
        grade = None if d["grade"] is None else Grade.model_validate(d["grade"])
        return cls(
            row=d["row"],
            id=d["id"],
            candidate=d["candidate"],
            question_id=d["question_id"],
            answer=d["answer"],
            passthrough={},
            grade=grade,
            error=d["error"],
        )


def row_id(raw: RawRow) -> str:
    """A row's id: its own `id`, else `row-N` from its position."""
    return str(raw.data.get("id") or f"row-{raw.row}")


def skip_written(rows: Iterable[RawRow], written: Counter[str]) -> Iterator[RawRow]:
    """The rows an interrupted run has not written yet (`written`: id -> rows written with it).

    Each written id is spent once, so rows that share an id are resumed one for one.
    """
    left = Counter(written)
    for raw in rows:
        rid = row_id(raw)
        if left[rid] > 0:
            left[rid] -= 1
            continue
        yield raw


def _validate(raw: RawRow, bank: Bank, max_chars: int) -> tuple[GradedRow, GradeRequest | None]:
    d = raw.data
    rid = row_id(raw)
    cand = d.get("candidate")
    qid = d.get("question_id")
    answer = d.get("answer")
    row = GradedRow(
        row=raw.row,
        id=rid,
        candidate=None if cand in (None, "") else str(cand),
        question_id=None if qid is None else str(qid),
        answer=answer if isinstance(answer, str) else None,
        passthrough={k: v for k, v in d.items() if k not in KNOWN},
    )
    where = f"row {raw.row} (id {rid})"
    if raw.error:
        row.error = raw.error
        return row, None
    if qid in (None, ""):
        row.error = f"{where}: missing question_id"
        return row, None
    if answer is None:
        row.error = f"{where}: missing answer"
        return row, None
    if not isinstance(answer, str):
        row.error = f"{where}: answer must be text, got {type(answer).__name__}"
        return row, None
    if len(answer) > max_chars:
        row.error = f"{where}: answer is {len(answer)} characters; the limit is {max_chars}"
        return row, None
    try:
        question = bank.question(str(qid))
    except QuestionNotFoundError:
        row.error = f"{where}: unknown question_id {qid!r} (bank {bank.id} v{bank.version})"
        return row, None
    return row, GradeRequest(question, answer, bank.id, bank.version, bank.siblings(question.id))


def grade_chunks(
    rows: Iterable[RawRow],
    bank: Bank,
    grader: Grader,
    *,
    chunk_size: int = 128,
    max_chars: int = 8000,
) -> Iterator[list[GradedRow]]:
    """Each chunk of rows, graded, as soon as it is; at most one chunk is read ahead."""
    it = iter(rows)
    while raws := list(islice(it, chunk_size)):
        yield grade_batch(raws, bank, grader, max_chars=max_chars)


def grade_batch(
    raws: Sequence[RawRow], bank: Bank, grader: Grader, *, max_chars: int = 8000
) -> list[GradedRow]:
    """One model batch of rows, graded in order; a row that fails validation keeps its error.

    The one place a row is graded: `grade_chunks` here and each actor of `--engine ray`
    (viva.adapters.ray_engine) call it, so both engines write the same rows.
    """
    chunk = [_validate(r, bank, max_chars) for r in raws]
    todo = [(row, req) for row, req in chunk if req is not None]
    grades = grader.grade_many([req for _, req in todo])
    for (row, _), grade in zip(todo, grades, strict=True):
        row.grade = grade
    return [row for row, _ in chunk]


def grade_rows(
    rows: Iterable[RawRow],
    bank: Bank,
    grader: Grader,
    *,
    chunk_size: int = 128,
    max_chars: int = 8000,
    on_done: Callable[[list[GradedRow]], None] | None = None,
) -> list[GradedRow]:
    """Every row graded, in a list (for small inputs; `viva grade` streams `grade_chunks`)."""
    out: list[GradedRow] = []
    for done in grade_chunks(rows, bank, grader, chunk_size=chunk_size, max_chars=max_chars):
        out.extend(done)
        if on_done:
            on_done(done)
    return out


def review_rows(
    rows: Sequence[GradedRow], bank: Bank, reviewer: Reviewer, progress: Progress | None = None
) -> None:
    """For `viva grade --llm`: replace each graded row's grade with the reviewed one, in place.

    Rows without a grade (row errors) are left alone.
    """
    todo: list[GradedRow] = []
    items: list[Item] = []
    for r in rows:
        if r.grade is not None and r.answer is not None and r.question_id:
            todo.append(r)
            items.append((bank.question(r.question_id), r.answer, r.grade))
    for row, grade in zip(todo, reviewer.review_many(items, progress), strict=True):
        row.grade = grade


def candidate_reports(rows: Sequence[GradedRow], bank: Bank) -> list[Report]:
    """One report per candidate over the questions they answered (rows without one: 'anonymous')."""
    by_cand: dict[str, list[GradedRow]] = defaultdict(list)
    for r in rows:
        by_cand[r.candidate or "anonymous"].append(r)
    reports: list[Report] = []
    for cand, items in sorted(by_cand.items()):
        qrs: list[QuestionReport] = []
        for r in items:
            try:
                q = bank.question(r.question_id or "")
            except QuestionNotFoundError:
                q = None
            qrs.append(
                QuestionReport(
                    question_id=r.question_id or "?",
                    prompt=q.prompt if q else "(unknown question)",
                    topic=q.topic if q else "unknown",
                    difficulty=q.difficulty if q else "medium",
                    status="answered" if r.grade else "error",
                    answer=r.answer,
                    grade=r.grade,
                    reference_answer=q.reference_answer if q else "",
                    error=r.error,
                )
            )
        graded = [q for q in qrs if q.status != "error"]
        report = build_report(
            graded,
            bank_id=bank.id,
            bank_version=bank.version,
            candidate=cand,
            topic_names={t: bank.topic_name(t) for t in bank.topics},
            questions={q.id: q for q in bank.questions},
        )
        errors = [q for q in qrs if q.status == "error"]
        if errors:
            report = report.model_copy(update={"questions": [*report.questions, *errors]})
        reports.append(report)
    return reports


def spooled_reports(
    groups: Iterable[tuple[str, list[dict[str, Any]]]], bank: Bank
) -> Iterator[Report]:
    """Reports from spooled rows grouped by candidate, one candidate in memory at a time."""
    for _, records in groups:
        yield from candidate_reports([GradedRow.from_spool(d) for d in records], bank)
