"""Review sheets: graded answers out as CSV or HTML for a person to score, and back in.

A sheet row is one graded answer: who, which question, the answer, Viva's score, and two
empty columns, `your_score` (0-1, or a percentage such as "85%") and `note`. Rows left without
`your_score` are not reviews. The HTML sheet has the same columns, with inputs, and a button
that saves the filled sheet as the CSV `viva review apply` reads.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from viva.errors import InvalidInputError

COLUMNS = (
    "id",
    "candidate",
    "bank_id",
    "bank_version",
    "question_id",
    "answer",
    "viva_score",
    "your_score",
    "note",
)


@dataclass(frozen=True)
class SheetRow:
    id: str
    candidate: str | None
    bank_id: str
    bank_version: str
    question_id: str
    answer: str
    viva_score: float
    your_score: float | None = None
    note: str | None = None


def write_csv(rows: Iterable[SheetRow], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel reads UTF-8
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(
                [
                    r.id,
                    r.candidate or "",
                    r.bank_id,
                    r.bank_version,
                    r.question_id,
                    r.answer,
                    f"{r.viva_score:.4f}",
                    "" if r.your_score is None else r.your_score,
                    r.note or "",
                ]
            )
            n += 1
    return n


_SCRIPT = """
document.getElementById('save').onclick = function () {
  var q = function (v) { return '"' + String(v).replace(/"/g, '""') + '"'; };
  var lines = [COLUMNS.map(q).join(',')];
  document.querySelectorAll('tbody tr').forEach(function (tr) {
    var d = JSON.parse(tr.dataset.row);
    d.your_score = tr.querySelector('.score').value;
    d.note = tr.querySelector('.note').value;
    lines.push(COLUMNS.map(function (c) { return q(d[c] == null ? '' : d[c]); }).join(','));
  });
  var a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([lines.join('\\r\\n')], {type: 'text/csv'}));
  a.download = 'review.csv';
  a.click();
};
"""


def write_html(rows: Iterable[SheetRow], path: Path) -> int:
    body: list[str] = []
    for r in rows:
        data = {c: getattr(r, c) for c in COLUMNS if c not in ("your_score", "note")}
        body.append(
            f"<tr data-row='{html.escape(json.dumps(data), quote=True)}'>"
            f"<td>{html.escape(r.id)}</td><td>{html.escape(r.candidate or '')}</td>"
            f"<td>{html.escape(r.question_id)}</td>"
            f"<td class=answer>{html.escape(r.answer)}</td><td>{r.viva_score:.2f}</td>"
            "<td><input class=score type=number min=0 max=1 step=0.05></td>"
            "<td><textarea class=note rows=2></textarea></td></tr>"
        )
    page = (
        "<!doctype html><meta charset=utf-8><title>Viva review sheet</title>"
        "<style>body{font:14px sans-serif}td{vertical-align:top;border-bottom:1px solid #ddd;"
        "padding:4px}.answer{max-width:40em;white-space:pre-wrap}</style>"
        "<h1>Review sheet</h1><p>Give your score (0 to 1) where you disagree with Viva, add a "
        "note, then save the sheet and run <code>viva review apply review.csv</code>.</p>"
        "<button id=save>Save review.csv</button><table><thead><tr><th>id<th>candidate"
        "<th>question<th>answer<th>Viva<th>your score<th>note</thead><tbody>"
        + "".join(body)
        + "</tbody></table><script>var COLUMNS = "
        + json.dumps(list(COLUMNS))
        + ";"
        + _SCRIPT
        + "</script>"
    )
    path.write_text(page, encoding="utf-8")
    return len(body)


def parse_score(value: str, where: str) -> float | None:
    """'0.8', '80%' or empty (no review); anything else, or outside 0-1, is an error."""
    v = value.strip()
    if not v:
        return None
    try:
        score = float(v[:-1]) / 100 if v.endswith("%") else float(v.replace(",", "."))
    except ValueError:
        raise InvalidInputError(f"{where}: your_score {value!r} is not a number") from None
    if not 0 <= score <= 1:
        raise InvalidInputError(f"{where}: your_score {value!r} is outside 0-1 (or 0%-100%)")
    return score


def read_csv(path: Path) -> list[SheetRow]:
    """The reviewed rows of a sheet (those with `your_score`)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read the sheet: {exc}") from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInputError(
            f"{path}: not a review sheet, missing column(s) {', '.join(missing)}"
        )
    out: list[SheetRow] = []
    for n, d in enumerate(reader, start=2):
        where = f"{path}: line {n}"
        score = parse_score(d["your_score"] or "", where)
        if score is None:
            continue
        try:
            viva = float(d["viva_score"])
        except ValueError:
            raise InvalidInputError(
                f"{where}: viva_score {d['viva_score']!r} is not a number"
            ) from None
        out.append(
            SheetRow(
                id=d["id"],
                candidate=d["candidate"] or None,
                bank_id=d["bank_id"],
                bank_version=d["bank_version"],
                question_id=d["question_id"],
                answer=d["answer"],
                viva_score=viva,
                your_score=score,
                note=(d["note"] or "").strip() or None,
            )
        )
    return out


def rows_from_grades(
    records: Sequence[dict[str, object]], answers: dict[str, str], source: Path
) -> list[SheetRow]:
    """Sheet rows from `viva grade` JSONL records; the answer text from the record or, by row
    id, from the answers file. Rows that failed to grade are left out (nothing to review)."""
    out: list[SheetRow] = []
    for rec in records:
        if rec.get("score") is None:
            continue
        rid = str(rec.get("id"))
        answer = rec.get("answer") or answers.get(rid)
        if not answer:
            raise InvalidInputError(
                f"{source}: row {rid!r} has no answer text; pass the answers file that was "
                "graded with --answers FILE"
            )
        out.append(
            SheetRow(
                id=rid,
                candidate=str(rec["candidate"]) if rec.get("candidate") else None,
                bank_id=str(rec.get("bank_id")),
                bank_version=str(rec.get("bank_version")),
                question_id=str(rec.get("question_id")),
                answer=str(answer),
                viva_score=float(rec["score"]),  # type: ignore[arg-type]
            )
        )
    return out
