"""Persistence of interviews: SQLAlchemy 2 tables, Alembic migrations, one repository."""

from viva.store.db import Database, open_database
from viva.store.repository import InterviewRecord, Repository, ResponseRecord, StoredResponse

__all__ = [
    "Database",
    "InterviewRecord",
    "Repository",
    "ResponseRecord",
    "StoredResponse",
    "open_database",
]
