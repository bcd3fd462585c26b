"""Suggested tests and their runs: the per-project history the learner loads incrementally.

Both tables are keyed for ``list_since``/``max_seq`` by ``UNIQUE(project_id, seq)``; the caller
computes seq values, the store only refuses duplicates, so two writers that raced on max_seq+1
get a `Conflict` instead of two rows with the same seq.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence

from optiloop.errors import Conflict
from optiloop.store.ports import RunRepo, TestRepo, iter_chunks
from optiloop.store.records import Run, TestCase
from optiloop.store.sqlite._json import dumps
from optiloop.store.sqlite._rows import column_list, rows_builder
from optiloop.store.sqlite.db import Database, integrity_error

# Well below SQLite's bound-parameter limit (32766 since 3.32, 999 before).
_IN_CHUNK = 500

_TEST_COLS = column_list(TestCase)
_tests = rows_builder(TestCase, json_field="params")


_SEQ_TOP = 2**63 - 1  # no upper bound (SQLite integers are 64-bit)


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


class SqliteTestRepo(TestRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, tests: Sequence[TestCase]) -> None:
        """All or none: a duplicate id or (project_id, seq) raises `Conflict` and writes nothing."""
        if not tests:
            return
        rows = [
            (
                t.id,
                t.project_id,
                t.seq,
                dumps(t.params),
                t.score,
                t.generator,
                t.operator,
                t.suggestion_id,
                t.predicted_cost,
                t.created_at,
                t.space_version,
            )
            for t in tests
        ]
        try:
            with self._db.write() as conn:
                conn.executemany(f"INSERT INTO tests ({_TEST_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        except sqlite3.IntegrityError as exc:
            raise integrity_error(exc, "tests") from exc

    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, TestCase]:
        out: dict[str, TestCase] = {}
        conn = self._db.conn()
        for chunk in iter_chunks(_unique(test_ids), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT {_TEST_COLS} FROM tests WHERE project_id = ? AND id IN ({marks})",
                (project_id, *chunk),
            ).fetchall()
            out.update((t.id, t) for t in _tests(rows))
        return out

    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[TestCase]:
        top = _SEQ_TOP if until_seq is None else until_seq
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_TEST_COLS} FROM tests WHERE project_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (project_id, after_seq, top),
            )
            .fetchall()
        )
        return _tests(rows)

    def max_seq(self, project_id: str) -> int:
        row = (
            self._db.conn()
            .execute("SELECT MAX(seq) FROM tests WHERE project_id = ?", (project_id,))
            .fetchone()
        )
        return int(row[0] or 0)


_RUN_COLS = column_list(Run)
_runs = rows_builder(Run, json_field="buckets", convert=tuple)


class SqliteRunRepo(RunRepo):
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, runs: Sequence[Run]) -> None:
        """All or none. `Conflict` names the test ids that already have a run (or repeat in the batch).

        A run must belong to a test of the same project (foreign key); otherwise `NotFound`.
        """
        if not runs:
            return
        rows = [
            (
                r.test_id,
                r.project_id,
                r.seq,
                r.status,
                r.duration_ms,
                r.cost_cents,
                r.failure_severity,
                dumps(list(r.buckets)),
                r.new_buckets,
                r.ingested_at,
                r.fingerprint,
            )
            for r in runs
        ]
        try:
            with self._db.write() as conn:
                self._refuse_existing(conn, runs)
                conn.executemany(f"INSERT INTO runs ({_RUN_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        except sqlite3.IntegrityError as exc:
            raise integrity_error(exc, "runs") from exc

    @staticmethod
    def _refuse_existing(conn: sqlite3.Connection, runs: Sequence[Run]) -> None:
        """Check before inserting only to say *which* tests clash; the primary key is the real guard."""
        ids = [r.test_id for r in runs]
        dupes = {i for i, n in Counter(ids).items() if n > 1}
        for chunk in iter_chunks(_unique(ids), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            dupes.update(
                row[0] for row in conn.execute(f"SELECT test_id FROM runs WHERE test_id IN ({marks})", chunk)
            )
        if dupes:
            listed = sorted(dupes)
            raise Conflict(
                f"a run already exists for test(s) {', '.join(listed[:10])}"
                + (" ..." if len(listed) > 10 else ""),
                details=[{"field": "test_id", "reason": "run exists", "test_id": t} for t in listed],
            )

    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, Run]:
        out: dict[str, Run] = {}
        conn = self._db.conn()
        for chunk in iter_chunks(_unique(test_ids), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                # `+project_id`: look the runs up by primary key; without it SQLite may pick an index
                # that leads with project_id and scan every run of the project (O(history) per ingest)
                f"SELECT {_RUN_COLS} FROM runs WHERE +project_id = ? AND test_id IN ({marks})",
                (project_id, *chunk),
            ).fetchall()
            out.update((r.test_id, r) for r in _runs(rows))
        return out

    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[Run]:
        top = _SEQ_TOP if until_seq is None else until_seq
        rows = (
            self._db.conn()
            .execute(
                f"SELECT {_RUN_COLS} FROM runs WHERE project_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (project_id, after_seq, top),
            )
            .fetchall()
        )
        return _runs(rows)

    def max_seq(self, project_id: str) -> int:
        row = (
            self._db.conn()
            .execute("SELECT MAX(seq) FROM runs WHERE project_id = ?", (project_id,))
            .fetchone()
        )
        return int(row[0] or 0)

    def totals(self, project_id: str) -> dict[str, float]:
        runs, cost, failures = (
            self._db.conn()
            .execute(
                "SELECT COUNT(*), COALESCE(SUM(cost_cents), 0.0), COALESCE(SUM(status = 'fail'), 0)"
                " FROM runs WHERE project_id = ?",
                (project_id,),
            )
            .fetchone()
        )
        return {"runs": int(runs), "cost_cents": float(cost), "failures": int(failures)}
