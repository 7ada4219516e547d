"""Interview status follows from the responses: drop the stored status and completed_at.

Both were written next to the response that completed an interview, so they repeated what the
responses already say. Plain ALTER TABLE ... DROP COLUMN on both backends (SQLite 3.35+): a
batch copy would drop and re-create `interviews`, and with foreign keys on, SQLite's implicit
DELETE would cascade to every response.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from viva.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("interviews", "completed_at")
    op.drop_column("interviews", "status")


def downgrade() -> None:
    op.add_column(
        "interviews",
        sa.Column("status", sa.String(16), nullable=False, server_default="in_progress"),
    )
    op.add_column("interviews", sa.Column("completed_at", UTCDateTime(), nullable=True))
    # Back-fill from the responses, the way 0001's code wrote them.
    conn = op.get_bind()
    iv = sa.table(
        "interviews",
        sa.column("id", sa.String),
        sa.column("question_ids", sa.JSON),
        sa.column("status", sa.String),
        sa.column("completed_at", UTCDateTime()),
    )
    r = sa.table(
        "responses",
        sa.column("interview_id", sa.String),
        sa.column("question_id", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    answered: dict[str, set[str]] = {}
    last: dict[str, datetime] = {}
    for resp in conn.execute(sa.select(r.c.interview_id, r.c.question_id, r.c.created_at)):
        answered.setdefault(resp.interview_id, set()).add(resp.question_id)
        last[resp.interview_id] = max(last.get(resp.interview_id, resp.created_at), resp.created_at)
    for row in conn.execute(sa.select(iv.c.id, iv.c.question_ids)).all():
        if row.id in last and set(row.question_ids) <= answered[row.id]:
            conn.execute(
                iv.update()
                .where(iv.c.id == row.id)
                .values(status="completed", completed_at=last[row.id])
            )
