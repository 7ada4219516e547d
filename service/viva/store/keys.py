"""API keys in the database: rows in, records out. Hashing happens in `viva.app.auth`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from viva.store.db import Database
from viva.store.tables import Base, utcnow

K = Base.metadata.tables["api_keys"]


@dataclass(frozen=True)
class KeyRecord:
    id: str
    name: str
    role: str
    hash: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, id: str, name: str, role: str, hash: str) -> KeyRecord:
        with self.db.write() as conn:
            values = {"id": id, "name": name, "role": role, "hash": hash, "created_at": utcnow()}
            conn.execute(K.insert().values(**values))
        found = self.get(id)
        assert found is not None
        return found

    def get(self, key_id: str) -> KeyRecord | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(K).where(K.c.id == key_id)).mappings().first()
        return _record(row) if row else None

    def all(self) -> list[KeyRecord]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(K).order_by(K.c.created_at, K.c.id)).mappings().all()
        return [_record(r) for r in rows]

    def any(self) -> bool:
        """Whether any key was ever created (revoked ones count: revoking never re-opens)."""
        with self.db.read() as conn:
            return conn.execute(sa.select(K.c.id).limit(1)).first() is not None

    def revoke(self, key_id: str) -> bool:
        with self.db.write() as conn:
            active = sa.and_(K.c.id == key_id, K.c.revoked_at.is_(None))
            n = conn.execute(K.update().where(active).values(revoked_at=utcnow())).rowcount
        return bool(n)


def _record(row: sa.RowMapping) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        hash=row["hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
