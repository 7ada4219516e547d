"""Engines for SQLite (the default, a WAL file in the data directory) and PostgreSQL, and the
migrations applied at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from viva.errors import ConfigError, StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x56495641  # "VIVA": an advisory lock id, so workers migrate one at a time


def normalise_url(url: str) -> str:
    """`postgresql://` would pick psycopg2, which is not installed; psycopg 3 is."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN, so writers can take the lock up front.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # BEGIN IMMEDIATE for writes: a deferred transaction that later upgrades to a write lock
    # fails at once with "database is locked" under concurrency instead of waiting.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine per process; `write()` and `read()` hand out transactional connections."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"VIVA_DATABASE_URL is not a database URL: {exc}") from None
        self.dialect = parsed.get_backend_name()
        self.sqlite_path: Path | None = None
        self.write_failure: str | None = None  # why the last write failed; None once one works
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                self.sqlite_path = Path(db)
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        try:
            self.engine = sa.create_engine(self.url, **kwargs)
        except Exception as exc:
            raise ConfigError(f"cannot use database {parsed!r}: {exc}") from None
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction. When the database cannot store data (disk full, read-only,
        locked too long) it raises StorageError with the reason and remembers it in
        `write_failure` until a write succeeds again; other errors pass through as they are."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    conn = conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    yield conn
        except (sa.exc.OperationalError, OSError) as exc:
            self.write_failure = _storage_reason(exc)
            raise StorageError(f"the database cannot store data: {self.write_failure}") from exc
        self.write_failure = None

    def check_writable(self) -> None:
        """Raises StorageError while writes fail. After a failure each call retries with a
        write that needs new space (a scratch table, created and dropped in one committed
        transaction), so readiness recovers on its own once space is free again."""
        if self.write_failure is None:
            return
        with self.write() as conn:
            conn.execute(sa.text("CREATE TABLE viva_write_probe (x INTEGER)"))
            conn.execute(sa.text("DROP TABLE viva_write_probe"))

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (sa.exc.OperationalError, OSError) as exc:
            raise StorageError(f"the database cannot be read: {_storage_reason(exc)}") from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe when several workers start at once."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self._migration_lock(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                    conn.commit()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.sqlite_path is None:
            yield
            return
        lock = self.sqlite_path.with_name(self.sqlite_path.name + ".migrate.lock")
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _storage_reason(exc: BaseException) -> str:
    """The driver's own words ("database or disk is full"), never a file path."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"(?:[A-Za-z]:)?[/\\][^\s'\"]+", "<path>", text)[:200]


def open_database(url: str, *, migrate: bool = True) -> Database:
    db = Database(url)
    if migrate:
        db.migrate()
    return db
