"""The audit trail on SQLite: one chain per shard, the same design as on DynamoDB.

SQLite has one writer at a time, so shards change nothing about contention here; they exist so the
trail a newcomer sees locally (seqs per project, shard heads, the anchor, digests, verification
messages) is the AWS one. Hashing lives in `optiloop.audit.chain`, shard and order rules in
`optiloop.audit.shards`.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from typing import Any

from optiloop.audit.chain import canonical_json, new_audit_id, record_hash, utc_now_ms
from optiloop.audit.shards import LEGACY_SHARD, decode_cursor, ord_of, shard_of
from optiloop.errors import Conflict
from optiloop.store.ports import AuditRepo
from optiloop.store.records import AuditHead, AuditRecord
from optiloop.store.sqlite._json import loads
from optiloop.store.sqlite.db import Database

MAX_LIST = 1000
_COLS = "seq, id, at, principal, action, project_id, target, details, prev_hash, hash, shard"
_ROW = "shard, seq, id, at, principal, action, project_id, target, details, prev_hash, hash"


def _record(row: tuple[Any, ...]) -> AuditRecord:
    try:
        details = loads(row[7])
    except ValueError:  # tampered text: still listable, and it fails verification
        details = {"<unparseable>": row[7]}
    return AuditRecord(
        seq=row[0],
        id=row[1],
        at=row[2],
        principal=row[3],
        action=row[4],
        project_id=row[5],
        target=row[6],
        details=details,
        prev_hash=row[8],
        hash=row[9],
        shard=row[10],
    )


class SqliteAuditRepo(AuditRepo):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._anchor: AuditHead | None = None

    def anchor(self) -> AuditHead:
        """Fixed once the schema migration wrote it, so read once per process."""
        if self._anchor is None:
            row = self._db.conn().execute("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetchone()
            self._anchor = AuditHead(LEGACY_SHARD, int(row[0]), str(row[1]))
        return self._anchor

    def append(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> AuditRecord:
        """Serialised by the write transaction (BEGIN IMMEDIATE + write gate): reading the shard head
        and inserting the next record happen under one lock. Inside `Store.transaction()` the record
        commits or rolls back with the action it describes."""
        for name, value in (("principal", principal), ("action", action)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"audit {name} must be a non-empty string")
        text = canonical_json(details)
        details = loads(text)  # what a later read returns (tuples -> lists etc.), so hashes agree
        shard = shard_of(project_id)
        base = self.anchor()
        with self._db.write() as conn:
            last = conn.execute("SELECT seq, hash FROM audit_heads WHERE shard = ?", (shard,)).fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (base.seq + 1, base.hash)
            rec_id, at = new_audit_id(), utc_now_ms()
            digest = record_hash(
                prev,
                seq=seq,
                id=rec_id,
                at=at,
                principal=principal,
                action=action,
                project_id=project_id,
                target=target,
                details=details,
            )
            conn.execute(
                f"INSERT INTO audit_log ({_ROW}, ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (shard, seq, rec_id, at, principal, action, project_id, target, text, prev, digest,
                 ord_of(shard, seq, at)),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO audit_heads (shard, seq, hash) VALUES (?, ?, ?) "
                "ON CONFLICT (shard) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (shard, seq, digest),
            )
        return AuditRecord(
            seq=seq,
            id=rec_id,
            at=at,
            principal=principal,
            action=action,
            project_id=project_id,
            target=target,
            details=details,
            prev_hash=prev,
            hash=digest,
            shard=shard,
        )

    def list(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
        after: str | None = None,
    ) -> list[AuditRecord]:
        """Keyset pages (by seq within a project, by ord tenant-wide), at most 1000 per call."""
        limit = min(limit, MAX_LIST)
        if limit <= 0:
            return []
        where: list[str] = []
        args: list[Any] = []
        if project_id is not None:
            where += ["project_id = ?", "seq > ?"]
            args += [project_id, after_seq]
            order = "seq"
        else:
            if after is not None:
                where.append("ord > ?")
                args.append(decode_cursor(after))
            order = "ord"
        if action is not None:
            where.append("action = ?")
            args.append(action)
        sql = f"SELECT {_COLS} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._db.conn().execute(f"{sql} ORDER BY {order} LIMIT ?", (*args, limit)).fetchall()
        return [_record(r) for r in rows]

    def heads(self) -> builtins.list[AuditHead]:
        rows = self._db.conn().execute("SELECT shard, seq, hash FROM audit_heads ORDER BY shard").fetchall()
        return [AuditHead(r[0], int(r[1]), str(r[2])) for r in rows]

    def shards(self) -> builtins.list[str]:
        conn = self._db.conn()
        rows = conn.execute("SELECT DISTINCT shard FROM audit_log WHERE shard != ?", (LEGACY_SHARD,))
        return [r[0] for r in rows]

    def rows(self, shard: str, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        """One statement, so one consistent WAL snapshot, streamed in constant memory."""
        sql = f"SELECT {_ROW} FROM audit_log WHERE shard = ? AND seq > ? ORDER BY seq"
        args: tuple[Any, ...] = (shard, after_seq)
        if limit is not None:
            sql += " LIMIT ?"
            args += (limit,)
        cur = self._db.conn().execute(sql, args)
        try:
            yield from cur
        finally:
            cur.close()

    def add_digest(self, digest: dict[str, Any]) -> None:
        import sqlite3

        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO audit_digests (n, at, body) VALUES (?, ?, ?)",
                    (int(digest["n"]), digest["at"], canonical_json(digest)),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"audit digest {digest['n']} exists already") from None

    def digests(self) -> Iterator[dict[str, Any]]:
        for (body,) in self._db.conn().execute("SELECT body FROM audit_digests ORDER BY n"):
            yield _digest(body)

    def latest_digest(self) -> dict[str, Any] | None:
        row = self._db.conn().execute("SELECT body FROM audit_digests ORDER BY n DESC LIMIT 1").fetchone()
        return _digest(row[0]) if row else None


def _digest(body: str) -> dict[str, Any]:
    try:
        out = json.loads(body)
    except ValueError:
        return {"n": None, "<unparseable>": body}
    return out if isinstance(out, dict) else {"n": None, "<unparseable>": body}
