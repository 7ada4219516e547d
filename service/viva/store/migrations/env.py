"""Alembic environment. Start-up passes an open connection in `config.attributes`; the
`alembic` command line (for writing new revisions) uses `sqlalchemy.url` instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from viva.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        _run(conn)
