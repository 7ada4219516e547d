"""Human review that teaches the grader: people override scores, the overrides are kept as an
audit trail, and the reviewed answers become graded examples for their question.

Where they live: the `reviews` table (store/reviews.py), not the bank files. One store serves
the API's interviewers and `viva review apply` alike, on SQLite or PostgreSQL, so every worker
and replica grades with the same examples, and the audit trail gets transactions and the
database's backups. Bank files stay as their authors wrote them.

How they are used: the latest review of each answer becomes a `GradedExample` of its
question, merged after the bank's own examples (a reviewed answer the bank already has replaces
the bank's score for it). The grader's anchors are keyed by the question's content, examples
included, so new examples are picked up on the next grade with no stale cache.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from viva.core.agreement import Pair
from viva.domain.models import Bank, GradedExample, Question
from viva.store.reviews import NewReview, ReviewRecord, ReviewStore


def answer_key(answer: str) -> str:
    """Answers that differ only in case and spacing are the same example (as the bank's
    duplicate check in domain/models.py sees them)."""
    return " ".join(answer.lower().split())


def latest(records: Iterable[ReviewRecord]) -> list[ReviewRecord]:
    """The review in force for each answer: the newest per (bank, question, answer, item)."""
    newest: dict[tuple[str, str, str, str | None], ReviewRecord] = {}
    for r in records:  # oldest first: later rows replace earlier ones
        newest[(r.bank_id, r.question_id, answer_key(r.answer), r.interview_id or r.item)] = r
    return list(newest.values())


def merge_examples(question: Question, reviewed: Sequence[GradedExample]) -> Question:
    """The question with the reviewed examples after its own; a reviewed answer the bank
    already has replaces the bank's example."""
    if not reviewed:
        return question
    mine = {answer_key(e.answer) for e in reviewed}
    kept = tuple(e for e in question.examples if answer_key(e.answer) not in mine)
    return question.model_copy(update={"examples": kept + tuple(reviewed)})


class HumanReviews:
    """The reviews use case over one store. Thread-safe; reads the store once per change."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._examples: dict[tuple[str, str], tuple[GradedExample, ...]] = {}

    def record(self, reviews: Sequence[NewReview]) -> int:
        return self.store.add_many(list(reviews))

    def record_one(self, review: NewReview) -> ReviewRecord:
        return self.store.add(review)

    def trail(self, bank_id: str | None = None) -> list[ReviewRecord]:
        return self.store.all(bank_id)

    def in_force(self, bank_id: str | None = None) -> list[ReviewRecord]:
        return latest(self.store.all(bank_id))

    def pairs(self, bank_id: str | None = None) -> list[Pair]:
        """Viva's score and the person's for every reviewed answer, for `viva agreement`."""
        return [
            Pair(
                bank_id=r.bank_id,
                question_id=r.question_id,
                answer=r.answer,
                viva=r.viva_score,
                human=r.score,
                note=r.note,
                reviewer=r.reviewer,
                item=r.interview_id or r.item,
            )
            for r in self.in_force(bank_id)
        ]

    def examples(self, bank_id: str, question_id: str) -> tuple[GradedExample, ...]:
        """The reviewed answers of one question as graded examples (one per distinct answer,
        the newest review winning)."""
        return self._current().get((bank_id, question_id), ())

    def _current(self) -> dict[tuple[str, str], tuple[GradedExample, ...]]:
        """Every question's reviewed examples, rebuilt when the store changed (one small
        query: each grade of a bank question asks, so a new review counts at once)."""
        with self._lock:
            version = self.store.version()
            if version != self._version:
                self._examples = self._build()
                self._version = version
            return self._examples

    def _build(self) -> dict[tuple[str, str], tuple[GradedExample, ...]]:
        by_answer: dict[tuple[str, str], dict[str, GradedExample]] = {}
        for r in self.store.all():  # oldest first: the newest review of an answer wins
            if not r.answer.strip():
                continue
            ex = GradedExample(answer=r.answer, score=r.score, note=r.note)
            by_answer.setdefault((r.bank_id, r.question_id), {})[answer_key(r.answer)] = ex
        return {k: tuple(v.values()) for k, v in by_answer.items()}

    def question(self, bank_id: str, question: Question) -> Question:
        return merge_examples(question, self.examples(bank_id, question.id))

    def bank(self, bank: Bank) -> Bank:
        reviewed = self._current()  # once per bank, not once per question
        if not reviewed:
            return bank
        questions = tuple(
            merge_examples(q, reviewed.get((bank.id, q.id), ())) for q in bank.questions
        )
        if all(a is b for a, b in zip(questions, bank.questions, strict=True)):
            return bank
        return bank.model_copy(update={"questions": questions})
