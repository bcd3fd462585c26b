"""The hash-chained audit trail (hashing itself lives in `optiloop.audit.chain`)."""

from __future__ import annotations

from typing import Any

from optiloop.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    new_audit_id,
    record_hash,
    utc_now_ms,
    verify_chain,
)
from optiloop.store.ports import AuditRepo
from optiloop.store.records import AuditRecord
from optiloop.store.sqlite._json import loads
from optiloop.store.sqlite.db import Database

MAX_LIST = 1000
_COLS = "seq, id, at, principal, action, project_id, target, details, prev_hash, hash"


def _record(row: tuple) -> AuditRecord:
    return AuditRecord(
        seq=row[0],
        id=row[1],
        at=row[2],
        principal=row[3],
        action=row[4],
        project_id=row[5],
        target=row[6],
        details=loads(row[7]),
        prev_hash=row[8],
        hash=row[9],
    )


class SqliteAuditRepo(AuditRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> AuditRecord:
        """Serialised by the write transaction (BEGIN IMMEDIATE + write gate): reading the last hash
        and inserting the next record happen under one lock, so concurrent appends cannot fork the
        chain or reuse a seq. Inside `Store.transaction()` the record commits or rolls back with the
        action it describes.
        """
        text = canonical_json(details)
        details = loads(text)  # what a later read returns (tuples -> lists etc.), so hashes agree
        with self._db.write() as conn:
            last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
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
                f"INSERT INTO audit ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, rec_id, at, principal, action, project_id, target, text, prev, digest),
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
        )

    def list(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Keyset pages by seq; `limit` is capped at 1000 so one request cannot dump the whole trail."""
        limit = min(limit, MAX_LIST)
        if limit <= 0:
            return []
        where, args = ["seq > ?"], [after_seq]
        if project_id is not None:
            where.append("project_id = ?")
            args.append(project_id)
        if action is not None:
            where.append("action = ?")
            args.append(action)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLS} FROM audit WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        return [_record(r) for r in rows]

    def verify(self) -> tuple[bool, int | None]:
        """Streams the whole trail in one statement (one consistent WAL snapshot, constant memory)."""
        cur = self._db.conn().execute(f"SELECT {_COLS} FROM audit ORDER BY seq")
        try:
            return verify_chain(_safe_records(cur))
        finally:
            cur.close()


def _safe_records(rows: Any) -> Any:
    """Rows whose details are no longer JSON (tampered) still yield a record that fails the check."""
    for row in rows:
        try:
            yield _record(row)
        except ValueError:
            yield AuditRecord(*row[:7], details={"<unparseable>": row[7]}, prev_hash=row[8], hash=row[9])
