"""Schema and migrations of the SQLite adapter.

Migrations are numbered and append-only: never edit a released step, add the next one. Each step
runs inside one ``BEGIN IMMEDIATE`` transaction together with its ``schema_version`` row, so two
processes opening the same file at once apply it exactly once, and a crash mid-way leaves the file
at the previous version. Opening a file written by a newer release fails loudly rather than
running old code against an unknown schema.

Every step also has a DOWN (`STEPS`, `migrate(conn, target)`; docs/migrations.md), run the same way
(one transaction with the removal of its ``schema_version`` row), so a release can be rolled back:

* 3 down folds the shards back into one chain: every record, in tenant-wide order, re-chained from
  genesis with seq 1..n. Records keep their content (id, time, who, what, details); shard records get
  new seqs and hashes (the legacy prefix keeps its own, byte for byte), so the chain verifies under the
  old release. The trade-off: hashes handed out earlier (receipts, digest files) no longer match the
  re-chained records, and the signed digests, which commit to shard heads that no longer exist, are
  dropped: a data loss that needs the explicit flag. The trail is verified first, so a tampered trail
  is refused rather than laundered by re-hashing.
* 4 rewrites the ``sort`` of model, prompt and prompt-deployment documents so that their listings
  are in creation order (`optiloop.store.listing_order`, the rule the DynamoDB step shares); 4 down
  puts models and deployments back in name order. Nothing is lost either way.
* 2 down parks ``docs`` as ``docs_parked_v2`` (v1 code never looks at it) and 2 up takes it back, so
  a rollback to v1 and a return lose no document. (A v1 file never had that table; 2 up is unchanged
  for it.)
* 1 down drops every table: a data loss whenever any holds a row.

Principle: a down step parks what its up step can bring back; what cannot come back is a loss and
`migrate` refuses it unless ``allow_data_loss`` (`DataLossRefused`, before the first step runs).

Index rationale (one per query pattern of the ports):

* tests/runs ``UNIQUE(project_id, seq)``: enforces the caller-computed seq and serves
  ``list_since`` (range scan) and ``max_seq`` (one index seek).
* tests ``UNIQUE(project_id, id)``: parent key of the runs -> tests foreign key, so a run can only
  name a test of its own project; also serves ``get_many``.
* runs ``(project_id, status, cost_cents)``: covers ``totals`` so it never touches the table.
* constraints ``UNIQUE(project_id, name, version)``: the Conflict rule, ``latest`` and ``history``.
* api_keys ``UNIQUE(key_hash)`` for authentication, ``(project_id)`` for listing.
* audit_log (v3) ``PRIMARY KEY (shard, seq)``: one chain per shard, appended and verified by range;
  ``UNIQUE(ord)``: the tenant-wide listing in order; ``(project_id, seq)`` and ``(action, ord)`` for
  the filtered listings. (v1's single-chain ``audit`` table became the ``legacy`` shard.)
  Triggers make the audit log and digests append-only for anything that goes through SQL without first
  dropping them, which catches accidental UPDATE/DELETE; deliberate tampering is what ``verify``
  is for.
* docs ``PRIMARY KEY (kind, id)``: `get`, `get_many`, and the Conflict rule of `create`; and
  ``(kind, scope, sort, id)``: `list` is one range scan in either direction, already in order (the
  id breaks ties of `sort` the way the port orders them), and `delete_scope` finds its rows.
  ``expires_at`` is not indexed but checked on the rows the key order reads: a listing wants key
  order whatever expires, and expired rows only linger until `create` overwrites them or a delete
  removes them (nothing here runs DynamoDB's TTL sweep).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from optiloop.audit.chain import GENESIS_HASH, record_hash, utc_now_ms
from optiloop.store import listing_order
from optiloop.store.migrations import DataLossRefused
from optiloop.store.sqlite._json import dumps

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """
            CREATE TABLE projects (
                id           TEXT PRIMARY KEY,
                name         TEXT NOT NULL,
                description  TEXT NOT NULL,
                created_at   TEXT NOT NULL,
                created_by   TEXT NOT NULL,
                budget_cents REAL
            )
            """,
            """
            CREATE TABLE constraints (
                id          TEXT PRIMARY KEY,
                project_id  TEXT NOT NULL REFERENCES projects(id),
                name        TEXT NOT NULL,
                type        TEXT NOT NULL CHECK (type IN ('hard', 'soft')),
                weight      REAL NOT NULL,
                json_schema TEXT NOT NULL,
                version     INTEGER NOT NULL,
                created_at  TEXT NOT NULL,
                created_by  TEXT NOT NULL,
                UNIQUE (project_id, name, version)
            )
            """,
            """
            CREATE TABLE tests (
                id             TEXT PRIMARY KEY,
                project_id     TEXT NOT NULL REFERENCES projects(id),
                seq            INTEGER NOT NULL,
                params         TEXT NOT NULL,
                score          REAL NOT NULL,
                generator      TEXT NOT NULL,
                operator       TEXT NOT NULL,
                suggestion_id  TEXT NOT NULL,
                predicted_cost REAL NOT NULL,
                created_at     TEXT NOT NULL,
                space_version  TEXT NOT NULL,
                UNIQUE (project_id, seq),
                UNIQUE (project_id, id)
            )
            """,
            """
            CREATE TABLE runs (
                test_id          TEXT PRIMARY KEY,
                project_id       TEXT NOT NULL,
                seq              INTEGER NOT NULL,
                status           TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skipped')),
                duration_ms      REAL NOT NULL,
                cost_cents       REAL NOT NULL,
                failure_severity INTEGER NOT NULL,
                buckets          TEXT NOT NULL,
                new_buckets      INTEGER NOT NULL,
                ingested_at      TEXT NOT NULL,
                fingerprint      TEXT NOT NULL,
                UNIQUE (project_id, seq),
                FOREIGN KEY (project_id, test_id) REFERENCES tests (project_id, id)
            )
            """,
            "CREATE INDEX runs_totals ON runs (project_id, status, cost_cents)",
            """
            CREATE TABLE api_keys (
                id         TEXT PRIMARY KEY,
                key_hash   TEXT NOT NULL UNIQUE,
                principal  TEXT NOT NULL,
                role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'contributor', 'viewer')),
                project_id TEXT REFERENCES projects(id),
                created_at TEXT NOT NULL,
                created_by TEXT NOT NULL,
                revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
            )
            """,
            "CREATE INDEX api_keys_project ON api_keys (project_id, created_at, id)",
            """
            CREATE TABLE audit (
                seq        INTEGER PRIMARY KEY,
                id         TEXT NOT NULL UNIQUE,
                at         TEXT NOT NULL,
                principal  TEXT NOT NULL,
                action     TEXT NOT NULL,
                project_id TEXT,
                target     TEXT,
                details    TEXT NOT NULL,
                prev_hash  TEXT NOT NULL,
                hash       TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_project ON audit (project_id, seq)",
            "CREATE INDEX audit_action ON audit (action, seq)",
            """
            CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END
            """,
            """
            CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END
            """,
        ],
    ),
    (
        2,
        [
            # Generic JSON documents (`DocRepo`); `data` is JSON text, `expires_at` epoch seconds.
            """
            CREATE TABLE docs (
                kind       TEXT NOT NULL,
                id         TEXT NOT NULL,
                scope      TEXT NOT NULL,
                sort       TEXT NOT NULL,
                data       TEXT NOT NULL,
                rev        INTEGER NOT NULL,
                expires_at REAL,
                PRIMARY KEY (kind, id)
            )
            """,
            "CREATE INDEX docs_scope ON docs (kind, scope, sort, id)",
        ],
    ),
]

# 3: the audit trail in shards (docs/audit-trail.md). The single chain becomes the "legacy" shard,
# unchanged row for row (same seq, same hashes: it still verifies), and its last (seq, hash) becomes
# the anchor every new shard's chain continues from. `ord` is the tenant-wide listing order
# (`optiloop.audit.shards.ord_of`); legacy rows sort first, by seq.
_GENESIS = "0" * 64
MIGRATIONS.append(
    (
        3,
        [
            """
            CREATE TABLE audit_log (
                shard      TEXT NOT NULL,
                seq        INTEGER NOT NULL,
                id         TEXT NOT NULL UNIQUE,
                at         TEXT NOT NULL,
                principal  TEXT NOT NULL,
                action     TEXT NOT NULL,
                project_id TEXT,
                target     TEXT,
                details    TEXT NOT NULL,
                prev_hash  TEXT NOT NULL,
                hash       TEXT NOT NULL,
                ord        TEXT NOT NULL UNIQUE,
                PRIMARY KEY (shard, seq)
            )
            """,
            """
            INSERT INTO audit_log (shard, seq, id, at, principal, action, project_id, target, details,
                                   prev_hash, hash, ord)
            SELECT 'legacy', seq, id, at, principal, action, project_id, target, details, prev_hash, hash,
                   '0|' || printf('%020d', seq)
            FROM audit ORDER BY seq
            """,
            """
            CREATE TABLE audit_anchor (
                id   INTEGER PRIMARY KEY CHECK (id = 1),
                seq  INTEGER NOT NULL,
                hash TEXT NOT NULL,
                at   TEXT NOT NULL
            )
            """,
            f"""
            INSERT INTO audit_anchor (id, seq, hash, at)
            SELECT 1, COALESCE(MAX(seq), 0),
                   COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '{_GENESIS}'),
                   strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            FROM audit
            """,
            "CREATE TABLE audit_heads (shard TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)",
            """
            CREATE TABLE audit_digests (
                n    INTEGER PRIMARY KEY,
                at   TEXT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            "DROP TRIGGER audit_no_update",
            "DROP TRIGGER audit_no_delete",
            "DROP TABLE audit",
            "CREATE INDEX audit_log_project ON audit_log (project_id, seq)",
            "CREATE INDEX audit_log_action ON audit_log (action, ord)",
            """
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END
            """,
            """
            CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END
            """,
            """
            CREATE TRIGGER audit_digests_no_update BEFORE UPDATE ON audit_digests
            BEGIN SELECT RAISE(ABORT, 'audit digests are append-only'); END
            """,
            """
            CREATE TRIGGER audit_digests_no_delete BEFORE DELETE ON audit_digests
            BEGIN SELECT RAISE(ABORT, 'audit digests are append-only'); END
            """,
            """
            CREATE TRIGGER audit_anchor_fixed BEFORE UPDATE ON audit_anchor
            BEGIN SELECT RAISE(ABORT, 'the audit anchor is fixed'); END
            """,
        ],
    )
)

# 4: models, prompts and prompt deployments list in creation order (`optiloop.store.listing_order`):
# their documents' `sort` is rewritten in Python (the rule reads JSON data), so no statements here.
MIGRATIONS.append((4, []))

LATEST_VERSION = MIGRATIONS[-1][0]

Apply = Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Step:
    """One version: how to reach it from the one below (`up`) and how to leave it (`down`).

    `loses` says, on the current data, what `down` would drop that its `up` cannot bring back (None:
    nothing). Both functions run inside the caller's transaction and must not commit.
    """

    version: int
    summary: str
    up: Apply
    down: Apply
    loses: Callable[[sqlite3.Connection], str | None]


def _statements(sqls: list[str]) -> Apply:
    def run(conn: sqlite3.Connection) -> None:
        for sql in sqls:
            conn.execute(sql)

    return run


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]) if _has_table(conn, table) else 0


# -- 1: the base tables ---------------------------------------------------------------------------

_V1_TABLES = ("runs", "tests", "constraints", "api_keys", "projects", "audit")  # children first
_PARKED_DOCS = "docs_parked_v2"


def _down_1(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for table in (*_V1_TABLES, _PARKED_DOCS):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _loses_1(conn: sqlite3.Connection) -> str | None:
    counts = {t: _count(conn, t) for t in ("projects", "constraints", "tests", "runs", "api_keys")}
    counts["audit records"] = _count(conn, "audit") or _count(conn, "audit_log")
    counts["documents"] = _count(conn, "docs") or _count(conn, _PARKED_DOCS)
    held = [f"{n} {what}" for what, n in counts.items() if n]
    return f"version 1 down drops every table ({', '.join(held)})" if held else None


# -- 2: documents ---------------------------------------------------------------------------------


def _up_2(conn: sqlite3.Connection) -> None:
    if _has_table(conn, _PARKED_DOCS):  # a file rolled back to v1 earlier: its documents come back
        conn.execute(f"ALTER TABLE {_PARKED_DOCS} RENAME TO docs")  # the index moves with the table
    else:
        _statements(MIGRATIONS[1][1])(conn)


def _down_2(conn: sqlite3.Connection) -> None:
    conn.execute(f"ALTER TABLE docs RENAME TO {_PARKED_DOCS}")


# -- 3: the sharded audit trail -----------------------------------------------------------------

# v1's own DDL of the single chain (table, indexes, triggers), so the fold recreates exactly it.
_V1_AUDIT = [sql for sql in MIGRATIONS[0][1] if re.search(r"\baudit\b", sql)]


class _ConnDb:
    """Just enough of `Database` for the audit repo's reads, on the migration's own connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def conn(self) -> sqlite3.Connection:
        return self._conn


def _verify_sharded(conn: sqlite3.Connection) -> None:
    """Refuse to fold a trail that does not verify: re-hashing would make tampering undetectable."""
    from optiloop.store.sqlite.audit import SqliteAuditRepo
    from optiloop.store.sqlite.db import Database

    result = SqliteAuditRepo(cast(Database, _ConnDb(conn))).verify()
    if not result.ok:
        raise RuntimeError(
            f"the audit trail does not verify ({result.problem}); folding it would re-hash the records "
            "and hide that, so version 3 is kept. Investigate with GET /v1/audit/verify first."
        )


def _down_3(conn: sqlite3.Connection) -> None:
    _verify_sharded(conn)
    for sql in _V1_AUDIT[:3]:  # the table and its indexes; the triggers once the rows are in
        conn.execute(sql)
    prev = GENESIS_HASH
    rows = conn.execute(
        "SELECT id, at, principal, action, project_id, target, details FROM audit_log ORDER BY ord"
    )
    insert = "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    for seq, (rec_id, at, principal, action, project_id, target, details) in enumerate(rows, start=1):
        h = record_hash(
            prev, seq=seq, id=rec_id, at=at, principal=principal, action=action, project_id=project_id,
            target=target, details=json.loads(details),
        )  # fmt: skip
        conn.execute(insert, (seq, rec_id, at, principal, action, project_id, target, details, prev, h))
        prev = h
    for sql in _V1_AUDIT[3:]:
        conn.execute(sql)
    for table in ("audit_log", "audit_heads", "audit_anchor", "audit_digests"):
        conn.execute(f"DROP TABLE {table}")  # their indexes and triggers go with them


def _loses_3(conn: sqlite3.Connection) -> str | None:
    n = _count(conn, "audit_digests")
    if not n:
        return None
    return (
        f"version 3 down drops {n} signed audit digests (they commit to shard heads the fold re-chains; "
        "copies stay in <data dir>/audit-digests/)"
    )


# -- 4: listings in creation order ------------------------------------------------------------


def _resort(rule: Callable[[str, str, str, dict[str, Any]], tuple[str, dict[str, Any]] | None]) -> Apply:
    """Rewrite the `sort` (and data) of every document of the step's kinds that `rule` places
    elsewhere. Paged by primary key, so memory stays bounded on a large file; `rev` is kept (the
    step runs under the write lock, and the document's content does not change meaning)."""

    def run(conn: sqlite3.Connection) -> None:
        for kind in listing_order.KINDS:
            last = ""
            while True:
                rows = conn.execute(
                    "SELECT id, sort, data FROM docs WHERE kind = ? AND id > ? ORDER BY id LIMIT 500",
                    (kind, last),
                ).fetchall()
                for doc_id, sort, data in rows:
                    placed = rule(kind, doc_id, sort, json.loads(data))
                    if placed is not None:
                        conn.execute(
                            "UPDATE docs SET sort = ?, data = ? WHERE kind = ? AND id = ?",
                            (placed[0], dumps(placed[1]), kind, doc_id),
                        )
                if len(rows) < 500:
                    break
                last = rows[-1][0]

    return run


def _no_loss(conn: sqlite3.Connection) -> str | None:
    return None


STEPS: list[Step] = [
    Step(1, "base tables", _statements(MIGRATIONS[0][1]), _down_1, _loses_1),
    Step(2, "documents", _up_2, _down_2, _no_loss),
    Step(3, "sharded audit trail", _statements(MIGRATIONS[2][1]), _down_3, _loses_3),
    Step(4, "listings in creation order", _resort(listing_order.up), _resort(listing_order.down), _no_loss),
]
assert [s.version for s in STEPS] == [v for v, _ in MIGRATIONS], "every migration needs its Step"


def current_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def planned_losses(conn: sqlite3.Connection, target: int) -> list[str]:
    """What migrating down to `target` from the current version would drop, step by step."""
    have = current_version(conn)
    return [msg for step in reversed(STEPS) if target < step.version <= have if (msg := step.loses(conn))]


def migrate(conn: sqlite3.Connection, target: int | None = None, *, allow_data_loss: bool = False) -> int:
    """Bring the file to `target` (default LATEST_VERSION), up or down one step per transaction.

    A no-op when it is there already (without taking the write lock). Each step commits with its
    ``schema_version`` row, so a failing step leaves the file at the version before it. A downgrade
    that would lose data (`Step.loses`) raises `DataLossRefused` before anything changes unless
    `allow_data_loss`. Returns the version reached.
    """
    want = LATEST_VERSION if target is None else target
    if not 0 <= want <= LATEST_VERSION:
        raise ValueError(f"no schema version {want}: this release knows 0..{LATEST_VERSION}")
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    if current_version(conn) == want:  # the common case
        return want
    if not allow_data_loss and (losses := planned_losses(conn, want)):
        raise DataLossRefused(want, losses)
    by_version = {s.version: s for s in STEPS}
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            have = current_version(conn)
            if have > LATEST_VERSION:
                raise RuntimeError(
                    f"database schema version {have} is newer than this release knows ({LATEST_VERSION})"
                )
            if have == want:
                conn.execute("COMMIT")
                return have
            if have < want:
                by_version[have + 1].up(conn)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (have + 1, utc_now_ms())
                )
            else:
                step = by_version[have]
                if not allow_data_loss and (loss := step.loses(conn)):  # data written since the check
                    raise DataLossRefused(want, [loss])
                step.down(conn)
                conn.execute("DELETE FROM schema_version WHERE version = ?", (have,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def read_version(path: str) -> int | None:
    """The schema version of a file without migrating it (None: no OptiLoop schema in it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if not _has_table(conn, "schema_version"):
            return None
        return current_version(conn)
    finally:
        conn.close()


def migrate_file(path: str, target: int | None = None, *, allow_data_loss: bool = False) -> tuple[int, int]:
    """`migrate` on a file by path, on its own connection with the store's pragmas (the CLI's entry):
    (version before, version after). Stop the processes serving the file before going down: a running
    release would meet a schema older than it expects."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        before = current_version(conn)
        return before, migrate(conn, target, allow_data_loss=allow_data_loss)
    finally:
        conn.close()
