"""Generic JSON documents (`DocRepo`): one row per (kind, id), listed through (kind, scope, sort, id).

Every write is one statement (or two inside one `Database.write()`), so it is atomic and joins an
open `Store.transaction()`. Expiry is a read-time filter (`expires_at` is NULL or still ahead of the
clock), as on DynamoDB, whose TTL deletes late; nothing sweeps expired rows here, `create`
overwrites one in place and the deletes remove them with the rest.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.store.ports import DocRepo, iter_chunks
from optiloop.store.records import Doc
from optiloop.store.sqlite._json import dumps
from optiloop.store.sqlite._rows import column_list, rows_builder
from optiloop.store.sqlite.db import Database

_COLS = column_list(Doc)  # kind, id, scope, sort, data, rev, expires_at
_docs = rows_builder(Doc, json_field="data")
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_IN_CHUNK = 500  # well below SQLite's bound-parameter limit
MAX_DOC_BYTES = 390 * 1024


def check_doc(doc: Doc) -> None:
    """The same refusals as the DynamoDB adapter, so code that runs here runs there."""
    for name in ("kind", "id", "scope", "sort"):
        if not isinstance(getattr(doc, name), str):
            raise ValueError(f"doc {name} must be a string, got {type(getattr(doc, name)).__name__}")
    if not doc.kind or not doc.id:
        raise ValueError("doc kind and id must be non-empty strings")
    if not isinstance(doc.data, dict):
        raise ValueError(f"doc data must be a JSON object (dict), got {type(doc.data).__name__}")
    size = len(dumps(doc.data).encode())
    if size > MAX_DOC_BYTES:  # DynamoDB's item limit, less room for keys: refuse here what it would
        raise InvalidInput(
            FieldProblem("data", f"the document is {size // 1024} KB; at most {MAX_DOC_BYTES // 1024} KB")
        )


class SqliteDocRepo(DocRepo):
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def create(self, doc: Doc) -> None:
        check_doc(doc)
        now = self._clock()
        with self._db.write() as conn:
            # One statement: insert, or take over the row only if it has expired; otherwise nothing
            # changes and rowcount says 0.
            cur = conn.execute(
                f"""
                INSERT INTO docs ({_COLS}) VALUES (?, ?, ?, ?, ?, 1, ?)
                ON CONFLICT (kind, id) DO UPDATE SET
                    scope = excluded.scope, sort = excluded.sort, data = excluded.data,
                    rev = 1, expires_at = excluded.expires_at
                WHERE docs.expires_at IS NOT NULL AND docs.expires_at <= ?
                """,
                (doc.kind, doc.id, doc.scope, doc.sort, dumps(doc.data), doc.expires_at, now),
            )
            if cur.rowcount == 0:
                raise Conflict(f"{doc.kind} {doc.id!r} already exists")

    def replace(self, doc: Doc, expected_rev: int) -> Doc:
        check_doc(doc)
        now = self._clock()
        with self._db.write() as conn:
            cur = conn.execute(
                f"""
                UPDATE docs SET scope = ?, sort = ?, data = ?, rev = rev + 1, expires_at = ?
                WHERE kind = ? AND id = ? AND rev = ? AND {_LIVE}
                """,
                (doc.scope, doc.sort, dumps(doc.data), doc.expires_at, doc.kind, doc.id, expected_rev, now),
            )
            if cur.rowcount == 0:
                row = conn.execute(
                    f"SELECT rev FROM docs WHERE kind = ? AND id = ? AND {_LIVE}", (doc.kind, doc.id, now)
                ).fetchone()
                if row is None:
                    raise NotFound(f"{doc.kind} {doc.id!r} does not exist")
                raise Conflict(
                    f"{doc.kind} {doc.id!r} was changed meanwhile (rev {row[0]}, expected {expected_rev})"
                )
        return dataclasses.replace(doc, rev=expected_rev + 1)

    def get(self, kind: str, doc_id: str) -> Doc | None:
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLS} FROM docs WHERE kind = ? AND id = ? AND {_LIVE}",
                (kind, doc_id, self._clock()),
            )
            .fetchall()
        )
        return _docs(rows)[0] if rows else None

    def get_many(self, kind: str, doc_ids: Sequence[str]) -> dict[str, Doc]:
        conn = self._db.conn()
        now = self._clock()
        out: dict[str, Doc] = {}
        for chunk in iter_chunks(list(dict.fromkeys(doc_ids)), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT {_COLS} FROM docs WHERE kind = ? AND id IN ({marks}) AND {_LIVE}",
                (kind, *chunk, now),
            ).fetchall()
            out.update((d.id, d) for d in _docs(rows))
        return out

    def list(
        self,
        kind: str,
        scope: str,
        *,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[Doc]:
        if limit <= 0:
            return []
        op, order = ("<", "DESC") if descending else (">", "ASC")
        bound = "" if after is None else f" AND sort {op} ?"
        args = (kind, scope) + (() if after is None else (after,)) + (self._clock(), limit)
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_COLS} FROM docs WHERE kind = ? AND scope = ?{bound} AND {_LIVE}"
                f" ORDER BY sort {order}, id {order} LIMIT ?",
                args,
            )
            .fetchall()
        )
        return _docs(rows)

    def delete(self, kind: str, doc_id: str) -> bool:
        """An expired row goes too, but counts as nothing deleted: it was already invisible."""
        now = self._clock()
        with self._db.write() as conn:
            expires = conn.execute(
                "DELETE FROM docs WHERE kind = ? AND id = ? RETURNING expires_at", (kind, doc_id)
            ).fetchall()
        return any(e is None or e > now for (e,) in expires)

    def delete_scope(self, kind: str, scope: str) -> int:
        """One statement, so here the whole scope goes at once (the port allows less)."""
        now = self._clock()
        with self._db.write() as conn:
            expires = conn.execute(
                "DELETE FROM docs WHERE kind = ? AND scope = ? RETURNING expires_at", (kind, scope)
            ).fetchall()
        return sum(1 for (e,) in expires if e is None or e > now)
