"""Importing a platform's response sheet: which bank question each of its questions asks.

A form's wording never matches the bank's prompts word for word, so each question column (or,
in a long sheet, each distinct question value) is matched to the prompt it is most similar to,
by the grader's own embedder. A match that is weak, or barely ahead of the next prompt, or that
two columns share, is not guessed: the run stops until `--map "Column title=keras-05"`
confirms it (or `--map "Column title=-"` says the column is not a question).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viva.adapters.answer_files import platforms
from viva.adapters.answer_files.platforms import SKIP, ColumnOptions, Layout
from viva.adapters.answer_files.readers import RawRow
from viva.adapters.answer_files.tables import header_of
from viva.core.ports import Embedder
from viva.domain.models import Bank
from viva.errors import InvalidInputError

MIN_SIMILARITY = 0.5
"""A column title at least this similar to a prompt is matched without being confirmed."""
MIN_MARGIN = 0.05
"""...and at least this far ahead of the next most similar prompt."""


NOT_A_QUESTION = 0.3
"""Below this, the message suggests skipping the column rather than confirming its match."""


@dataclass
class Match:
    title: str  # the column title (or long sheet's question value) as written
    text: str  # what was compared with the prompts
    question_id: str | None  # a bank question id, SKIP, or None (nothing confident)
    how: str  # "id" (it is a bank id), "map" (--map), "similarity"
    similarity: float | None = None
    runner_up: tuple[str, float] | None = None
    problem: str | None = None  # why it needs --map

    @property
    def confirmed(self) -> bool:
        return self.problem is None


def parse_maps(values: Sequence[str], bank: Bank) -> dict[str, str]:
    """`--map "Column title=keras-05"` values (the last `=` splits) as title -> question id."""
    out: dict[str, str] = {}
    known = {q.id for q in bank.questions}
    for value in values:
        title, sep, qid = value.rpartition("=")
        title, qid = title.strip(), qid.strip()
        if not sep or not title or not qid:
            raise InvalidInputError(f'--map takes "Column title=question_id", not {value!r}')
        if qid != SKIP and qid not in known:
            raise InvalidInputError(
                f"--map {value!r}: bank {bank.id} has no question {qid!r} "
                f"(it has {', '.join(sorted(known))}; '-' skips the column)"
            )
        out[title] = qid
    return out


def match_questions(
    items: dict[str, str],
    bank: Bank,
    embedder: Embedder,
    maps: dict[str, str],
    aliases: dict[str, str] | None = None,
) -> list[Match]:
    """A match for each `title -> text` in `items`; `aliases` maps another name `--map` may use
    for a title (Canvas's question id) to it."""
    by_alias = {a: t for a, t in (aliases or {}).items()}
    mapped: dict[str, str] = {}
    for key, qid in maps.items():
        title = key if key in items else by_alias.get(key)
        if title is None:
            raise InvalidInputError(
                f"--map {key!r}: no such question column (columns: {', '.join(items)})"
            )
        mapped[title] = qid
    ids = {q.id for q in bank.questions}
    todo = [t for t in items if t not in mapped and t.strip() not in ids]
    sims = _similarities([items[t] for t in todo], bank, embedder)
    matches: list[Match] = []
    for title, text in items.items():
        if title in mapped:
            matches.append(Match(title, text, mapped[title], "map"))
        elif title.strip() in ids:
            matches.append(Match(title, text, title.strip(), "id"))
        else:
            row = sims[todo.index(title)]
            order = np.argsort(-row)
            best = int(order[0])
            m = Match(title, text, bank.questions[best].id, "similarity", float(row[best]))
            if len(order) > 1:
                second = int(order[1])
                m.runner_up = (bank.questions[second].id, float(row[second]))
            if m.similarity is not None and m.similarity < MIN_SIMILARITY:
                m.problem = f"similarity {m.similarity:.2f} is below {MIN_SIMILARITY}"
            elif m.runner_up and (m.similarity or 0) - m.runner_up[1] < MIN_MARGIN:
                m.problem = (
                    f"{m.runner_up[0]} is almost as similar ({m.runner_up[1]:.2f} vs "
                    f"{m.similarity:.2f})"
                )
            matches.append(m)
    # Two columns that both ask one question: a confident or confirmed match counts, a weak
    # one (already stopped) does not.
    shared = Counter(
        m.question_id for m in matches if m.confirmed and m.question_id and m.question_id != SKIP
    )
    for m in matches:
        if m.how == "similarity" and m.problem is None and shared[m.question_id or ""] > 1:
            m.problem = f"another column also matches {m.question_id}"
    return matches


def _similarities(texts: list[str], bank: Bank, embedder: Embedder) -> np.ndarray:
    if not texts:
        return np.zeros((0, len(bank.questions)))
    vecs = embedder.embed([*texts, *(q.prompt for q in bank.questions)])
    a, b = np.asarray(vecs[: len(texts)]), np.asarray(vecs[len(texts) :])
    return np.clip(a @ b.T, -1.0, 1.0)


def unconfirmed_message(matches: Sequence[Match], what: str = "column") -> str:
    """What to do about the matches that need `--map`, with the flags to copy."""
    bad = [m for m in matches if not m.confirmed]
    lines = [f"{len(bad)} question {what}(s) could not be matched with confidence:"]
    for m in bad:
        lines.append(f"  {m.title!r}: best {m.question_id} — {m.problem}")
    lines.append("confirm each with --map (or '-' for a column that is not a question), e.g.:")
    for m in bad:
        unlike = m.similarity is not None and m.similarity < NOT_A_QUESTION
        lines.append(
            f'  --map "{m.title}=-"    (like no question: comments, consent, …)'
            if unlike
            else f'  --map "{m.title}={m.question_id}"'
        )
    return "\n".join(lines)


@dataclass
class ImportPlan:
    """A sheet, its layout and the question each of its questions was matched to."""

    path: Path
    layout: Layout
    matches: list[Match]
    delimiter: str | None = None

    @property
    def confirmed(self) -> bool:
        return all(m.confirmed for m in self.matches)

    def rows(self) -> Iterator[RawRow]:
        ids = {m.title: m.question_id for m in self.matches if m.question_id is not None}
        return platforms.rows(self.layout, self.path, ids, self.delimiter)


def plan_import(
    path: Path,
    fmt: str,
    bank: Bank,
    embedder: Embedder,
    *,
    maps: Sequence[str] = (),
    options: ColumnOptions | None = None,
    delimiter: str | None = None,
) -> ImportPlan:
    """The layout of `path` read as `fmt` and its questions matched to `bank`; unconfirmed
    matches are in the plan (check `confirmed`) so the caller can show them all."""
    header = header_of(path, delimiter)
    if not header:
        raise InvalidInputError(f"{path}: no rows to grade")
    layout = platforms.layout_for(fmt, header, options)
    texts = platforms.question_texts(layout, path, delimiter)
    aliases = {q.platform_id: q.title for q in layout.questions if q.platform_id}
    matches = match_questions(texts, bank, embedder, parse_maps(maps, bank), aliases)
    return ImportPlan(path, layout, matches, delimiter)
