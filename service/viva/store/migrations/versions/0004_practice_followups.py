"""Practice mode, time limits, retries and follow-ups (issue 12).

Interviews gain `mode` ("exam" or "practice") and `time_limit_s`; responses gain `kind`
("answer", "retry" or "follow_up"), `parent_id` (the question a retry or follow-up belongs to)
and `time_taken_s`. A retry or follow-up row has its own question id (`<id>~r1`, `<id>~f1`), so
the unique (interview, question) constraint still means "stored exactly once". Plain ADD COLUMN
on both backends (no batch copy: see 0002 on SQLite's cascading DELETE).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "interviews", sa.Column("mode", sa.String(16), nullable=False, server_default="exam")
    )
    op.add_column("interviews", sa.Column("time_limit_s", sa.Integer, nullable=True))
    op.add_column(
        "responses", sa.Column("kind", sa.String(16), nullable=False, server_default="answer")
    )
    op.add_column("responses", sa.Column("parent_id", sa.String(64), nullable=True))
    op.add_column("responses", sa.Column("time_taken_s", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("responses", "time_taken_s")
    op.drop_column("responses", "parent_id")
    op.drop_column("responses", "kind")
    op.drop_column("interviews", "time_limit_s")
    op.drop_column("interviews", "mode")
