"""The repository: interviews and responses in, plain records out. No SQL leaves this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from viva.core.interview import InterviewState, Outcome, Status
from viva.domain.models import Grade, Question
from viva.errors import InterviewNotFoundError
from viva.store.db import Database
from viva.store.tables import Base, utcnow

IV = Base.metadata.tables["interviews"]
R = Base.metadata.tables["responses"]


@dataclass(frozen=True)
class ResponseRecord:
    question_id: str
    position: int
    outcome: Outcome
    answer: str | None
    grade: Grade | None
    idempotency_key: str | None
    request_hash: str
    response_body: dict[str, Any]
    created_at: datetime
    kind: str = "answer"  # "answer", "retry" or "follow_up"
    parent_id: str | None = None  # the question a retry or follow-up belongs to
    time_taken_s: float | None = None

    @property
    def question(self) -> str:
        """The interview question this response is about (a retry's or follow-up's parent)."""
        return self.parent_id or self.question_id


@dataclass(frozen=True)
class InterviewRecord:
    id: str
    bank_id: str
    bank_version: str
    candidate: str | None
    feedback: str
    seed: int
    question_ids: tuple[str, ...]
    questions: tuple[Question, ...]
    created_at: datetime
    updated_at: datetime
    responses: list[ResponseRecord] = field(default_factory=list)
    owner: str | None = None  # the subject of whoever created it; None: open mode
    has_link: bool = False  # made for a candidate: only the link's holder answers
    reveal: str | None = None  # the interview's reveal policy; None: the server's
    mode: str = "exam"  # or "practice"
    time_limit_s: int | None = None

    @property
    def answers(self) -> list[ResponseRecord]:
        """One response per interview question (answer or skip): no retries, no follow-ups."""
        return [r for r in self.responses if r.kind == "answer"]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    @property
    def state(self) -> InterviewState:
        return InterviewState.of(
            self.question_ids, {r.question_id: r.outcome for r in self.answers}
        )

    @property
    def status(self) -> Status:
        """From the responses, the one source of truth: completed once every question has one."""
        return self.state.status

    @property
    def completed_at(self) -> datetime | None:
        """When the last question got its response; None while in progress."""
        if self.status != "completed":
            return None
        return max(r.created_at for r in self.responses)


@dataclass(frozen=True)
class StoredResponse:
    """The result of `add_response`: `created` is False when another request stored it first."""

    created: bool
    record: ResponseRecord | None


class Repository:
    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def ping(self) -> None:
        """Raises when the database does not answer."""
        self.db.ping()

    def check_writable(self) -> None:
        """Raises StorageError, with the reason, while writes fail (e.g. the disk is full)."""
        self.db.check_writable()

    def close(self) -> None:
        self.db.dispose()

    def create_interview(
        self,
        *,
        id: str,
        bank_id: str,
        bank_version: str,
        candidate: str | None,
        feedback: str,
        seed: int,
        questions: tuple[Question, ...],
        owner: str | None = None,
        link_hash: str | None = None,
        reveal: str | None = None,
        mode: str = "exam",
        time_limit_s: int | None = None,
    ) -> InterviewRecord:
        now = utcnow()
        values = {
            "mode": mode,
            "time_limit_s": time_limit_s,
            "owner": owner,
            "link_hash": link_hash,
            "reveal": reveal,
            "id": id,
            "bank_id": bank_id,
            "bank_version": bank_version,
            "candidate": candidate,
            "feedback": feedback,
            "seed": seed,
            "question_ids": [q.id for q in questions],
            "questions": [q.model_dump(mode="json") for q in questions],
            "created_at": now,
            "updated_at": now,
        }
        with self.db.write() as conn:
            conn.execute(IV.insert().values(**values))
        return self.get_interview(id)

    def get_interview(self, interview_id: str) -> InterviewRecord:
        if "\x00" in interview_id:  # PostgreSQL refuses NUL in text; no id contains one
            raise InterviewNotFoundError(f"no interview {interview_id!r}")
        with self.db.read() as conn:
            row = conn.execute(sa.select(IV).where(IV.c.id == interview_id)).mappings().first()
            if row is None:
                raise InterviewNotFoundError(f"no interview {interview_id!r}")
            rows = (
                conn.execute(
                    sa.select(R)
                    .where(R.c.interview_id == interview_id)
                    .order_by(R.c.position, R.c.id)
                )
                .mappings()
                .all()
            )
        return _interview(row, [_response(r) for r in rows])

    def list_interviews(
        self,
        *,
        owner: str | None,
        all_owners: bool,
        limit: int,
        before: tuple[datetime, str] | None,
    ) -> list[InterviewRecord]:
        """Newest first: `owner`'s interviews (every one with `all_owners`), after a cursor
        (the `(created_at, id)` of the last one already listed)."""
        q = sa.select(IV).order_by(IV.c.created_at.desc(), IV.c.id.desc()).limit(limit)
        if not all_owners:
            q = q.where(IV.c.owner == owner) if owner is not None else q.where(sa.false())
        if before is not None:
            at, last = before
            q = q.where(
                sa.or_(IV.c.created_at < at, sa.and_(IV.c.created_at == at, IV.c.id < last))
            )
        with self.db.read() as conn:
            rows = conn.execute(q).mappings().all()
            ids = [r["id"] for r in rows]
            resp = (
                conn.execute(
                    sa.select(R).where(R.c.interview_id.in_(ids)).order_by(R.c.position, R.c.id)
                )
                .mappings()
                .all()
                if ids
                else []
            )
        by_iv: dict[str, list[ResponseRecord]] = {i: [] for i in ids}
        for r in resp:
            by_iv[r["interview_id"]].append(_response(r))
        return [_interview(row, by_iv[row["id"]]) for row in rows]

    def interview_by_link(self, link_hash: str) -> str | None:
        """The id of the interview whose candidate link hashes to `link_hash`."""
        with self.db.read() as conn:
            found = conn.execute(sa.select(IV.c.id).where(IV.c.link_hash == link_hash)).first()
        return str(found[0]) if found else None

    def delete_interview(self, interview_id: str) -> bool:
        """Delete an interview and (by cascade, and explicitly for safety) its responses."""
        with self.db.write() as conn:
            conn.execute(R.delete().where(R.c.interview_id == interview_id))
            n = conn.execute(IV.delete().where(IV.c.id == interview_id)).rowcount
        return bool(n)

    def purge_before(self, cutoff: datetime) -> int:
        """Delete every interview created before `cutoff`; returns how many."""
        old = sa.select(IV.c.id).where(IV.c.created_at < cutoff).scalar_subquery()
        with self.db.write() as conn:
            conn.execute(R.delete().where(R.c.interview_id.in_(old)))
            n = conn.execute(IV.delete().where(IV.c.created_at < cutoff)).rowcount
        return int(n or 0)

    def interview_ids(self, *, candidate: str | None = None, owner: str | None = None) -> list[str]:
        """Ids, oldest first, of the interviews for a candidate name and/or an owner."""
        q = sa.select(IV.c.id).order_by(IV.c.created_at, IV.c.id)
        if candidate is not None:
            q = q.where(IV.c.candidate == candidate)
        if owner is not None:
            q = q.where(IV.c.owner == owner)
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(q)]

    def owner_usage(self, owner: str) -> tuple[int, int]:
        """(interviews, UTF-8 bytes of answer text) held by one owner, for the quotas."""
        if self.db.dialect == "postgresql":
            size = sa.func.octet_length(R.c.answer)
        else:  # SQLite: length() of a BLOB counts bytes, of TEXT characters
            size = sa.func.length(sa.cast(R.c.answer, sa.LargeBinary))
        mine = sa.select(IV.c.id).where(IV.c.owner == owner).scalar_subquery()
        with self.db.read() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(IV).where(IV.c.owner == owner)
            ).scalar_one()
            total = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(size), 0)).where(
                    R.c.interview_id.in_(mine), R.c.answer.is_not(None)
                )
            ).scalar_one()
        return int(count), int(total)

    def find_by_key(self, interview_id: str, key: str) -> ResponseRecord | None:
        with self.db.read() as conn:
            row = (
                conn.execute(
                    sa.select(R).where(R.c.interview_id == interview_id, R.c.idempotency_key == key)
                )
                .mappings()
                .first()
            )
        return _response(row) if row else None

    def add_response(
        self,
        interview: InterviewRecord,
        *,
        question_id: str,
        outcome: Outcome,
        answer: str | None,
        grade: Grade | None,
        idempotency_key: str | None,
        request_hash: str,
        response_body: dict[str, Any],
        kind: str = "answer",
        parent_id: str | None = None,
        time_taken_s: float | None = None,
    ) -> StoredResponse:
        """Store one response, once. A unique-constraint violation means another request for
        the same question (or the same idempotency key) won the race: `created` is False and
        `record` is the winner's row when the key matches, else None.
        """
        now = utcnow()
        position = interview.question_ids.index(parent_id or question_id)
        try:
            with self.db.write() as conn:
                conn.execute(
                    R.insert().values(
                        interview_id=interview.id,
                        question_id=question_id,
                        position=position,
                        outcome=outcome,
                        answer=answer,
                        grade=grade.model_dump(mode="json") if grade else None,
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        response_body=response_body,
                        created_at=now,
                        kind=kind,
                        parent_id=parent_id,
                        time_taken_s=time_taken_s,
                    )
                )
                conn.execute(IV.update().where(IV.c.id == interview.id).values(updated_at=now))
        except IntegrityError:
            existing = self.find_by_key(interview.id, idempotency_key) if idempotency_key else None
            return StoredResponse(created=False, record=existing)
        rec = ResponseRecord(
            question_id=question_id,
            position=position,
            outcome=outcome,
            answer=answer,
            grade=grade,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            response_body=response_body,
            created_at=now,
            kind=kind,
            parent_id=parent_id,
            time_taken_s=time_taken_s,
        )
        return StoredResponse(created=True, record=rec)

    def count_responses(self, interview_id: str) -> int:
        with self.db.read() as conn:
            n = conn.execute(
                sa.select(sa.func.count()).select_from(R).where(R.c.interview_id == interview_id)
            ).scalar_one()
        return int(n)


def _response(row: Any) -> ResponseRecord:
    grade = row["grade"]
    return ResponseRecord(
        question_id=row["question_id"],
        position=int(row["position"]),
        outcome=row["outcome"],
        answer=row["answer"],
        grade=Grade.model_validate(grade) if grade else None,
        idempotency_key=row["idempotency_key"],
        request_hash=row["request_hash"],
        response_body=row["response_body"],
        created_at=row["created_at"],
        kind=row["kind"],
        parent_id=row["parent_id"],
        time_taken_s=row["time_taken_s"],
    )


def _interview(row: Any, responses: list[ResponseRecord]) -> InterviewRecord:
    return InterviewRecord(
        id=row["id"],
        bank_id=row["bank_id"],
        bank_version=row["bank_version"],
        candidate=row["candidate"],
        feedback=row["feedback"],
        seed=int(row["seed"]),
        question_ids=tuple(row["question_ids"]),
        questions=tuple(Question.model_validate(q) for q in row["questions"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        responses=responses,
        owner=row["owner"],
        has_link=row["link_hash"] is not None,
        reveal=row["reveal"],
        mode=row["mode"],
        time_limit_s=row["time_limit_s"],
    )
