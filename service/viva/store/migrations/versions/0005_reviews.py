"""Human reviews: the audit trail of score overrides, and the graded examples they become.

Named 0005 so it never clashes with a parallel 0004; 0004 (practice and follow-ups) has
landed, so it revises 0004 (one head).

Revision ID: 0005
Revises: 0004
Create Date: 2025-07-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from viva.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "interview_id",
            sa.String(36),
            sa.ForeignKey("interviews.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("item", sa.String(200), nullable=True),
        sa.Column("bank_id", sa.String(64), nullable=False),
        sa.Column("bank_version", sa.String(64), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("viva_score", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_reviews_interview_id", "reviews", ["interview_id"])
    op.create_index("ix_reviews_bank_id", "reviews", ["bank_id"])


def downgrade() -> None:
    op.drop_index("ix_reviews_bank_id", table_name="reviews")
    op.drop_index("ix_reviews_interview_id", table_name="reviews")
    op.drop_table("reviews")
