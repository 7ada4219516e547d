"""Accounts: API keys, interview owners, candidate links and the reveal policy.

Plain ADD COLUMN on both backends (no batch copy: see 0002 on SQLite's cascading DELETE).
Interviews made before this revision have no owner: only admins (or open mode) see them.

Revision ID: 0003
Revises: 0002
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from viva.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.add_column("interviews", sa.Column("owner", sa.String(200), nullable=True))
    op.add_column("interviews", sa.Column("link_hash", sa.String(64), nullable=True))
    op.add_column("interviews", sa.Column("reveal", sa.String(16), nullable=True))
    op.create_index("ix_interviews_owner", "interviews", ["owner"])
    op.create_index("ix_interviews_link_hash", "interviews", ["link_hash"], unique=True)
    op.create_index("ix_interviews_created_at", "interviews", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_interviews_created_at", table_name="interviews")
    op.drop_index("ix_interviews_link_hash", table_name="interviews")
    op.drop_index("ix_interviews_owner", table_name="interviews")
    op.drop_column("interviews", "reveal")
    op.drop_column("interviews", "link_hash")
    op.drop_column("interviews", "owner")
    op.drop_table("api_keys")
