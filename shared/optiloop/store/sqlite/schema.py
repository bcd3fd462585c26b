"""Schema and migrations of the SQLite adapter.

Migrations are numbered and append-only: never edit a released step, add the next one. Each step
runs inside one ``BEGIN IMMEDIATE`` transaction together with its ``schema_version`` row, so two
processes opening the same file at once apply it exactly once, and a crash mid-way leaves the file
at the previous version. Opening a file written by a newer release fails loudly rather than
running old code against an unknown schema.

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

import sqlite3

from optiloop.audit.chain import utc_now_ms

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

LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file up to LATEST_VERSION; a no-op when it is there already. Returns the version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    if current_version(conn) == LATEST_VERSION:  # the common case, without taking the write lock
        return LATEST_VERSION
    for version, statements in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            have = current_version(conn)
            if have > LATEST_VERSION:
                raise RuntimeError(
                    f"database schema version {have} is newer than this release knows ({LATEST_VERSION})"
                )
            if version > have:
                for sql in statements:
                    conn.execute(sql)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_now_ms())
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return current_version(conn)
