"""Human reviews in the database: the append-only audit trail, rows in and records out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from viva.store.db import Database
from viva.store.tables import Base, utcnow

RV = Base.metadata.tables["reviews"]

Source = Literal["api", "sheet"]


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    source: str
    interview_id: str | None
    item: str | None
    bank_id: str
    bank_version: str
    question_id: str
    answer: str
    viva_score: float
    score: float
    note: str | None
    reviewer: str
    created_at: datetime


@dataclass(frozen=True)
class NewReview:
    source: Source
    bank_id: str
    bank_version: str
    question_id: str
    answer: str
    viva_score: float
    score: float
    reviewer: str
    note: str | None = None
    interview_id: str | None = None
    item: str | None = None


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_many(self, reviews: list[NewReview]) -> int:
        """Append the reviews in one transaction; returns how many were stored."""
        if not reviews:
            return 0
        now = utcnow()
        with self.db.write() as conn:
            conn.execute(RV.insert(), [{**r.__dict__, "created_at": now} for r in reviews])
        return len(reviews)

    def add(self, review: NewReview) -> ReviewRecord:
        with self.db.write() as conn:
            rid = conn.execute(
                RV.insert().values(**review.__dict__, created_at=utcnow()).returning(RV.c.id)
            ).scalar_one()
            row = conn.execute(sa.select(RV).where(RV.c.id == rid)).mappings().one()
        return ReviewRecord(**row)

    def all(self, bank_id: str | None = None) -> list[ReviewRecord]:
        """Every review, oldest first (the whole audit trail)."""
        q = sa.select(RV).order_by(RV.c.id)
        if bank_id is not None:
            q = q.where(RV.c.bank_id == bank_id)
        with self.db.read() as conn:
            return [ReviewRecord(**r) for r in conn.execute(q).mappings().all()]

    def for_interview(self, interview_id: str) -> list[ReviewRecord]:
        q = sa.select(RV).where(RV.c.interview_id == interview_id).order_by(RV.c.id)
        with self.db.read() as conn:
            return [ReviewRecord(**r) for r in conn.execute(q).mappings().all()]

    def version(self) -> tuple[int, int]:
        """Changes whenever a review is added or deleted: (count, newest id)."""
        with self.db.read() as conn:
            n, top = conn.execute(sa.select(sa.func.count(), sa.func.max(RV.c.id))).one()
        return int(n), int(top or 0)
