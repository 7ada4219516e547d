"""The tables. Everything needed to reproduce a grade is kept: answer text, full grade JSON,
question order, seed, bank id and version, and timestamps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone on its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON,
        list[str]: sa.JSON,
    }


class InterviewRow(Base):
    __tablename__ = "interviews"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    bank_id: Mapped[str] = mapped_column(sa.String(64))
    bank_version: Mapped[str] = mapped_column(sa.String(64))
    candidate: Mapped[str | None] = mapped_column(sa.String(200))
    feedback: Mapped[str] = mapped_column(sa.String(16))
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    question_ids: Mapped[list[str]] = mapped_column(sa.JSON)
    # The questions as they were when the interview began, so later bank edits change nothing.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    # No status column: whether an interview is completed, and when, follows from its
    # responses (`InterviewRecord.status`), so the two can never disagree.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # retention
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who may see it (a principal's subject, e.g. "key:ab12cd34ef56"); NULL: made in open mode.
    owner: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    # SHA-256 of the candidate link token (the token itself is shown once, never stored).
    link_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True, unique=True)
    # When reference answers and rubric texts reach the candidate; NULL: the server default.
    reveal: Mapped[str | None] = mapped_column(sa.String(16))
    # "exam" (the default) or "practice": a retry per question, the model answer after each.
    mode: Mapped[str] = mapped_column(sa.String(16), server_default="exam")
    time_limit_s: Mapped[int | None] = mapped_column(sa.Integer)  # per question; NULL: none


class ResponseRow(Base):
    """One answer or skip. The unique constraints make "stored exactly once" a database fact."""

    __tablename__ = "responses"
    __table_args__ = (
        sa.UniqueConstraint("interview_id", "question_id", name="uq_responses_question"),
        sa.UniqueConstraint("interview_id", "idempotency_key", name="uq_responses_idempotency"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(sa.Integer)
    outcome: Mapped[str] = mapped_column(sa.String(16))  # answered | skipped
    answer: Mapped[str | None] = mapped_column(sa.Text)
    grade: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "answer", "retry" (question_id `<id>~r1`) or "follow_up" (`<id>~f1`); see 0004.
    kind: Mapped[str] = mapped_column(sa.String(16), server_default="answer")
    parent_id: Mapped[str | None] = mapped_column(sa.String(64))  # a retry's or follow-up's
    time_taken_s: Mapped[float | None] = mapped_column(sa.Float)  # from when it was served


class ApiKeyRow(Base):
    """An API key: only its argon2 hash is kept; the key is printed once when created."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(16))
    hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewRow(Base):
    """A person's score for one graded answer: the audit trail of overrides, append-only.

    Viva's score stays next to the reviewer's, with who and when, so nothing is overwritten;
    the latest row per answer is the review in force. Answers reviewed in an interview go
    with it (CASCADE: deleting an interview deletes its answers everywhere); answers reviewed
    from a sheet (`viva review apply`) have no interview.
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(sa.String(16))  # api | sheet
    interview_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str | None] = mapped_column(sa.String(200))  # the sheet row's id
    bank_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    bank_version: Mapped[str] = mapped_column(sa.String(64))
    question_id: Mapped[str] = mapped_column(sa.String(64))
    answer: Mapped[str] = mapped_column(sa.Text)
    viva_score: Mapped[float] = mapped_column(sa.Float)
    score: Mapped[float] = mapped_column(sa.Float)
    note: Mapped[str | None] = mapped_column(sa.Text)
    reviewer: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
