"""Importers: the response sheets forms and learning platforms export, read as answer rows.

Each platform's sheet is described by a `Layout`: which columns hold answers (and the question
each one asks), which describe the respondent (they pass through to the output), and which name
the candidate. The layout is found from the header alone, so a format is detected before any
row is read. Which bank question a column or a question text means is not decided here: the
caller matches them (`viva.app.importing`) and hands `rows` the mapping.

Formats, as documented by each platform:
- google-forms: Google Forms and Microsoft Forms response sheets: one row per respondent, a
  `Timestamp` (Google) or `Start time`/`Completion time` (Microsoft) column, one column per
  question titled with its wording.
- moodle: the quiz Responses report (CSV or XLSX): one row per attempt, `Response N` columns
  (with `Question N` columns when the question text is shown), HTML in essay answers, and an
  `Overall average` row at the end; or an assignment's "Download all submissions" zip of
  online-text essays (read as such a table by `tables`).
- canvas: the quiz Student Analysis CSV: `name, id, sis_id, section, ...`, then per question a
  `<question id>: <question text>` column followed by its points column.
- long: one answer per row (`--question-col`, `--answer-col`, `--id-col`, `--candidate-col`).
- wide: one respondent per row, every other column a question (`--wide`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from viva.adapters.answer_files.readers import KNOWN, RawRow
from viva.adapters.answer_files.tables import table_rows
from viva.errors import InvalidInputError

IMPORT_FORMATS = ("google-forms", "moodle", "canvas", "long", "wide")

SKIP = "-"
"""What `--map "Column=-"` maps a column to: not a question, passed through instead."""

# Respondent columns of form sheets (lower case); every other column is a question.
_FORM_RESPONDENT = {
    "timestamp",
    "email address",
    "email",
    "username",
    "name",
    "full name",
    "your name",
    "first name",
    "last name",
    "surname",
    "student id",
    "student number",
    "id",
    "start time",
    "completion time",
    "last modified time",
    "score",
    "total points",
    "quiz feedback",
    "section",
    "class",
    "group",
}
_CANDIDATE_KEYS = (
    "email address",
    "email",
    "username",
    "student id",
    "id number",
    "name",
    "full name",
)
_MOODLE_RESPONSE = re.compile(r"^Response (\d+)$")
_MOODLE_QUESTION = re.compile(r"^Question (\d+)$")
_MOODLE_RIGHT = re.compile(r"^Right answer (\d+)$")
_CANVAS_QUESTION = re.compile(r"^(\d+): (.*)$", re.DOTALL)
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class ColumnOptions:
    """`--id-col`, `--candidate-col`, `--question-col`, `--answer-col` (header names)."""

    id: str | None = None
    candidate: str | None = None
    question: str | None = None
    answer: str | None = None

    def given(self) -> bool:
        return any((self.id, self.candidate, self.question, self.answer))


@dataclass
class QuestionColumn:
    index: int
    title: str  # the header cell, which `--map` names
    text: str  # what is matched to the bank's prompts
    platform_id: str | None = None  # Canvas's question id, which `--map` may name too


@dataclass
class Layout:
    format: str
    header: list[str]
    questions: list[QuestionColumn] = field(default_factory=list)  # wide sheets
    respondent: list[int] = field(default_factory=list)  # pass-through columns
    candidate: list[int] = field(default_factory=list)  # joined with a space
    id_col: int | None = None
    question_col: int | None = None  # long sheets
    answer_col: int | None = None
    html: bool = False  # answers may be HTML (Moodle, Canvas): reduced to text
    text_cols: dict[int, int] = field(default_factory=dict)  # Moodle: Response N -> Question N

    @property
    def wide(self) -> bool:
        return self.question_col is None


def html_to_text(value: str) -> str:
    """An answer written in a platform's HTML editor, as the plain text the student wrote.

    Parsed, never executed or rendered: tags are dropped, block ends become line breaks,
    entities are decoded, and script and style content is discarded.
    """
    if "<" not in value and "&" not in value:
        return value
    parser = _TextParser()
    parser.feed(value)
    parser.close()
    text = "".join(parser.out)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()


class _TextParser(HTMLParser):
    _BLOCK = frozenset(("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre", "ul", "ol"))
    _HIDDEN = frozenset(("script", "style", "template", "head"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def detect_format(header: list[str]) -> str | None:
    """The platform whose export has this header, or None (then it is plain CSV)."""
    low = [h.strip().lower() for h in header]
    if "question_id" in low and "answer" in low:
        return None
    if {"name", "id"} <= set(low) and any(_CANVAS_QUESTION.match(h) for h in header):
        return "canvas"
    if any(_MOODLE_RESPONSE.match(h) for h in header) and (
        {"surname", "first name", "full name", "email address", "state"} & set(low)
    ):
        return "moodle"
    if low and low[0] == "timestamp":
        return "google-forms"
    if {"start time", "completion time"} <= set(low):
        return "google-forms"  # Microsoft Forms: the same shape
    return None


def _find(header: list[str], name: str, what: str) -> int:
    for i, h in enumerate(header):
        if h.strip() == name.strip():
            return i
    low = [h.strip().lower() for h in header]
    if name.strip().lower() in low:
        return low.index(name.strip().lower())
    raise InvalidInputError(
        f"{what} {name!r} is not a column (found: {', '.join(header) or 'none'})"
    )


def _candidate_cols(header: list[str]) -> list[int]:
    """The column naming a respondent: an email or user name, else first and last name."""
    low = [h.strip().lower() for h in header]
    for key in _CANDIDATE_KEYS:
        if key in low:
            return [low.index(key)]
    return [low.index(k) for k in ("first name", "surname", "last name") if k in low]


def layout_for(fmt: str, header: list[str], options: ColumnOptions | None = None) -> Layout:
    """The layout of a sheet in format `fmt` with this header; `InvalidInputError` names what
    is missing when the header is not that format's."""
    options = options or ColumnOptions()
    header = [h.strip() for h in header]
    if fmt == "long":
        return _long(header, options)
    if fmt == "moodle":
        layout = _moodle(header)
    elif fmt == "canvas":
        layout = _canvas(header)
    elif fmt in ("google-forms", "wide"):
        layout = _forms(header, fmt)
    else:
        raise InvalidInputError(
            f"unknown import format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}"
        )
    if options.question or options.answer:
        raise InvalidInputError(
            "--question-col and --answer-col are for long sheets (one answer per row); "
            f"a {fmt} sheet has one column per question"
        )
    if options.id:
        layout.id_col = _find(header, options.id, "--id-col")
    if options.candidate:
        layout.candidate = [_find(header, options.candidate, "--candidate-col")]
    taken = {*layout.candidate, *([] if layout.id_col is None else [layout.id_col])}
    layout.questions = [q for q in layout.questions if q.index not in taken]
    layout.respondent = sorted({*layout.respondent, *taken})
    if not layout.questions:
        raise InvalidInputError(
            f"no question columns in this {fmt} sheet (found: {', '.join(header) or 'none'})"
        )
    return layout


def _forms(header: list[str], fmt: str) -> Layout:
    layout = Layout(fmt, header)
    for i, h in enumerate(header):
        low = h.lower()
        if low.startswith(("points - ", "feedback - ")):
            continue  # Microsoft Forms quiz: marks and feedback per question
        if low in _FORM_RESPONDENT or not h:
            layout.respondent.append(i)
        else:
            layout.questions.append(QuestionColumn(i, h, h))
    layout.candidate = _candidate_cols(header)
    return layout


def _moodle(header: list[str]) -> Layout:
    layout = Layout("moodle", header, html=True)
    texts = {m.group(1): i for i, h in enumerate(header) if (m := _MOODLE_QUESTION.match(h))}
    for i, h in enumerate(header):
        if m := _MOODLE_RESPONSE.match(h):
            layout.questions.append(QuestionColumn(i, h, h))
            if m.group(1) in texts:
                layout.text_cols[i] = texts[m.group(1)]
        elif not (_MOODLE_QUESTION.match(h) or _MOODLE_RIGHT.match(h)):
            layout.respondent.append(i)
    if not layout.questions:
        raise InvalidInputError(
            "not a Moodle Responses report: no 'Response N' columns "
            f"(found: {', '.join(header) or 'none'})"
        )
    layout.candidate = _candidate_cols(header)
    return layout


def _canvas(header: list[str]) -> Layout:
    layout = Layout("canvas", header, html=True)
    low = [h.lower() for h in header]
    after_question = False
    for i, h in enumerate(header):
        if m := _CANVAS_QUESTION.match(h):
            text = html_to_text(m.group(2))
            layout.questions.append(QuestionColumn(i, h, text, platform_id=m.group(1)))
            after_question = True
            continue
        if after_question and _NUMBER.match(h):
            after_question = False
            continue  # the points Canvas gave the question before it
        after_question = False
        layout.respondent.append(i)
    if "name" in low:
        layout.candidate = [low.index("name")]
    return layout


def _long(header: list[str], options: ColumnOptions) -> Layout:
    low = [h.lower() for h in header]

    def col(given: str | None, defaults: tuple[str, ...], what: str) -> int | None:
        if given:
            return _find(header, given, what)
        for d in defaults:
            if d in low:
                return low.index(d)
        return None

    question = col(options.question, ("question_id", "question"), "--question-col")
    answer = col(options.answer, ("answer", "response"), "--answer-col")
    missing = [
        flag
        for flag, found in (("--question-col", question), ("--answer-col", answer))
        if found is None
    ]
    if missing:
        raise InvalidInputError(
            f"name the {' and '.join(missing)} of this sheet (found: {', '.join(header) or 'none'})"
        )
    layout = Layout("long", header, question_col=question, answer_col=answer)
    layout.id_col = col(options.id, ("id",), "--id-col")
    cand = col(options.candidate, ("candidate",), "--candidate-col")
    layout.candidate = [] if cand is None else [cand]
    used = {question, answer, layout.id_col, cand}
    layout.respondent = [i for i in range(len(header)) if i not in used]
    return layout


def _cell(cells: list[str], i: int | None) -> str:
    return cells[i] if i is not None and i < len(cells) else ""


def _pass_key(layout: Layout, title: str) -> str:
    """A pass-through column's name; one that is also a Viva field gets the format as prefix."""
    return f"{layout.format}_{title}" if title in KNOWN or title == "question" else title


def sheet_rows(path: Path, delimiter: str | None = None) -> Iterator[list[str]]:
    """The data rows of a sheet (header skipped), without Moodle's `Overall average` row."""
    rows = table_rows(path, delimiter)
    next(rows, None)
    for cells in rows:
        if cells and cells[0].strip().lower() == "overall average":
            continue
        yield cells


def question_texts(layout: Layout, path: Path, delimiter: str | None = None) -> dict[str, str]:
    """What each question means, for matching: a wide sheet's columns by title (Moodle's
    `Response N` by the text of its `Question N`), a long sheet's distinct question values."""
    out: dict[str, str] = {}
    if layout.wide:
        pending = {q.title: q for q in layout.questions}
        for q in layout.questions:
            if q.index not in layout.text_cols:
                out[q.title] = q.text
                del pending[q.title]
        if pending:
            for cells in sheet_rows(path, delimiter):
                for title, q in list(pending.items()):
                    text = html_to_text(_cell(cells, layout.text_cols[q.index])).strip()
                    if text and text != SKIP:
                        out[title] = text
                        del pending[title]
                if not pending:
                    break
            out.update({t: q.text for t, q in pending.items()})
        return {q.title: out[q.title] for q in layout.questions}
    for cells in sheet_rows(path, delimiter):
        value = _cell(cells, layout.question_col).strip()
        if value and value not in out:
            out[value] = value
    return out


def rows(
    layout: Layout,
    path: Path,
    question_ids: Mapping[str, str],
    delimiter: str | None = None,
) -> Iterator[RawRow]:
    """Answer rows, one per answer: `question_ids` maps a column title (or a long sheet's
    question value) to a bank question id, or to `SKIP`."""
    header = layout.header
    for n, cells in enumerate(sheet_rows(path, delimiter), start=1):
        base: dict[str, str] = {}
        for i in layout.respondent:
            if i < len(header) and header[i]:
                base[_pass_key(layout, header[i])] = _cell(cells, i)
        for q in layout.questions:
            if question_ids.get(q.title) == SKIP:
                base[_pass_key(layout, q.title)] = _cell(cells, q.index)
        cand = " ".join(_cell(cells, i).strip() for i in layout.candidate).strip()
        own_id = _cell(cells, layout.id_col).strip()
        if not layout.wide:
            value = _cell(cells, layout.question_col).strip()
            answer = _cell(cells, layout.answer_col)
            data = {
                "id": own_id or f"row-{n}",
                "candidate": cand,
                "question_id": question_ids.get(value, value),
                "answer": html_to_text(answer) if layout.html else answer,
                **base,
            }
            yield RawRow(n, data)
            continue
        respondent = own_id or f"r{n}"
        for q in layout.questions:
            qid = question_ids.get(q.title)
            if qid is None or qid == SKIP:
                continue
            answer = _cell(cells, q.index)
            if layout.format == "moodle" and answer.strip() == SKIP:
                answer = ""  # Moodle's mark for "not answered"
            yield RawRow(
                n,
                {
                    "id": f"{respondent}/{qid}",
                    "candidate": cand,
                    "question_id": qid,
                    "answer": html_to_text(answer) if layout.html else answer,
                    "question": q.title,
                    **base,
                },
            )
