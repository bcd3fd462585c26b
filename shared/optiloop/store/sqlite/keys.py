"""API keys. Only hashes are stored; the plaintext key never reaches the store."""

from __future__ import annotations

import sqlite3
from typing import Any

from optiloop.store.ports import KeyRepo
from optiloop.store.records import ApiKey
from optiloop.store.sqlite.db import Database, integrity_error

_COLS = "id, key_hash, principal, role, project_id, created_at, created_by, revoked"


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        id=row[0],
        key_hash=row[1],
        principal=row[2],
        role=row[3],
        project_id=row[4],
        created_at=row[5],
        created_by=row[6],
        revoked=bool(row[7]),
    )


class SqliteKeyRepo(KeyRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, key: ApiKey) -> None:
        """`Conflict` on a duplicate id or key_hash (two keys must never authenticate as each other)."""
        try:
            with self._db.write() as conn:
                conn.execute(
                    f"INSERT INTO api_keys ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key.id,
                        key.key_hash,
                        key.principal,
                        key.role,
                        key.project_id,
                        key.created_at,
                        key.created_by,
                        int(key.revoked),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise integrity_error(exc, f"api key {key.id!r}") from exc

    def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """Revoked keys are returned too (with revoked=True) so the caller can say why auth failed."""
        row = (
            self._db.conn()
            .execute(f"SELECT {_COLS} FROM api_keys WHERE key_hash = ?", (key_hash,))
            .fetchone()
        )
        return _key(row) if row else None

    def get(self, key_id: str) -> ApiKey | None:
        """By primary key: an access token's per-request liveness check."""
        row = self._db.conn().execute(f"SELECT {_COLS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _key(row) if row else None

    def list(self, project_id: str | None = None) -> list[ApiKey]:
        """None lists every key; a project id lists the keys scoped to that project only."""
        conn = self._db.conn()
        if project_id is None:
            rows = conn.execute(f"SELECT {_COLS} FROM api_keys ORDER BY created_at, id").fetchall()
        else:
            rows = conn.execute(
                f"SELECT {_COLS} FROM api_keys WHERE project_id = ? ORDER BY created_at, id", (project_id,)
            ).fetchall()
        return [_key(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """True if the key exists (revoking twice is harmless), False for an unknown id."""
        with self._db.write() as conn:
            cur = conn.execute("UPDATE api_keys SET revoked = 1 WHERE id = ?", (key_id,))
            return cur.rowcount > 0

    def count(self) -> int:
        """Every key ever issued, revoked ones included: revoking all keys must not reopen bootstrap."""
        return int(self._db.conn().execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])
