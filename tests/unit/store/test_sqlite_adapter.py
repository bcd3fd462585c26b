"""SQLite specifics: files, pragmas, migrations, foreign keys, query plans, threads and processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from optiloop.errors import Conflict, NotFound
from optiloop.store.factory import open_local, open_memory
from optiloop.store.records import ApiKey, Constraint, Project, Run, TestCase
from optiloop.store.sqlite import SqliteStore
from optiloop.store.sqlite.schema import LATEST_VERSION, MIGRATIONS

SHARED = str(Path(__file__).resolve().parents[3] / "shared")


def project(pid: str = "p1") -> Project:
    return Project(pid, "name", "desc", "2025-01-01T00:00:00.000Z", "alice")


def mk_test(pid: str, seq: int, tid: str | None = None) -> TestCase:
    return TestCase(tid or f"{pid}_t{seq}", pid, seq, {"x": seq}, 0.5, "g", "op", "s1", 1.0, "t", "sv")


def run(test: TestCase, seq: int, status: str = "pass") -> Run:
    return Run(test.id, test.project_id, seq, status, 1.0, 1.0, 0, (1, 2), 1, "t", "fp")  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "optiloop.db")
    yield s
    s.close()


# -- files and persistence ---------------------------------------------------------------------


def test_open_local_layout_and_restart_in_another_process(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    store, blobs = open_local(data)
    store.projects.add(project())
    store.audit.append(principal="a", action="x", project_id="p1", target=None, details={"k": 1})
    blobs.put("projects/p1/model.npz", b"weights")
    store.close()
    assert (data / "optiloop.db").is_file()
    assert (data / "blobs" / "projects" / "p1" / "model.npz").is_file()

    script = (
        "import sys; from optiloop.store.factory import open_local\n"
        "s, b = open_local(sys.argv[1])\n"
        "assert s.projects.get('p1').name == 'name'\n"
        "assert s.audit.verify() == (True, None)\n"
        "assert b.get('projects/p1/model.npz') == b'weights'\n"
        "print(s.audit.append(principal='b', action='y', project_id='p1', target=None, details={}).seq)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(data)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SHARED},
        check=True,
    )
    assert out.stdout.strip() == "2"  # the second record of project p1's chain
    store, _ = open_local(data)
    assert [r.action for r in store.audit.list()] == ["x", "y"]
    assert store.audit.verify() == (True, None)
    store.close()


def test_open_memory_gives_independent_stores() -> None:
    (a, ablobs), (b, _) = open_memory(), open_memory()
    a.projects.add(project())
    ablobs.put("k", b"v")
    assert b.projects.get("p1") is None
    assert ablobs.get("k") == b"v"
    a.close()
    b.close()


def test_json_fields_are_stored_as_json_text(store: SqliteStore) -> None:
    store.projects.add(project())
    store.tests.add_many([mk_test("p1", 1)])
    store.runs.add_many([run(mk_test("p1", 1), 1)])
    store.constraints.add(Constraint("c1", "p1", "c", "hard", 1.0, {"a": [1]}, 1, "t", "u"))
    store.audit.append(principal="a", action="x", project_id=None, target=None, details={"d": "é"})
    conn = sqlite3.connect(store.path)
    for table, column in [
        ("tests", "params"),
        ("runs", "buckets"),
        ("constraints", "json_schema"),
        ("audit_log", "details"),
    ]:
        kind, text = conn.execute(f"SELECT typeof({column}), {column} FROM {table}").fetchone()
        assert kind == "text"
        json.loads(text)
    conn.close()


# -- pragmas, migrations -----------------------------------------------------------------------


def test_pragmas_on_every_threads_connection(store: SqliteStore) -> None:
    results: list[tuple[str, int, int]] = []

    def check() -> None:
        conn = store.db.conn()
        results.append(
            (
                conn.execute("PRAGMA journal_mode").fetchone()[0],
                conn.execute("PRAGMA foreign_keys").fetchone()[0],
                conn.execute("PRAGMA busy_timeout").fetchone()[0],
            )
        )

    threads = [threading.Thread(target=check) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check()
    assert results == [("wal", 1, 10_000)] * 4


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    for _ in range(3):
        SqliteStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(v,) for v, _ in MIGRATIONS]
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (LATEST_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        SqliteStore(path)


# -- integrity ---------------------------------------------------------------------------------


def test_records_must_reference_existing_parents(store: SqliteStore) -> None:
    store.projects.add(project("p1"))
    store.projects.add(project("p2"))
    with pytest.raises(NotFound):
        store.tests.add_many([mk_test("nope", 1)])
    with pytest.raises(NotFound):
        store.constraints.add(Constraint("c1", "nope", "c", "hard", 1.0, {}, 1, "t", "u"))
    with pytest.raises(NotFound):
        store.keys.add(ApiKey("k1", "h1", "bob", "viewer", "nope", "t", "u"))
    t = mk_test("p1", 1)
    store.tests.add_many([t])
    with pytest.raises(NotFound):
        store.runs.add_many([run(mk_test("p1", 2), 1)])  # no such test
    with pytest.raises(NotFound):
        store.runs.add_many([Run(t.id, "p2", 1, "pass", 1.0, 1.0, 0, (), 0, "t", "fp")])  # test of p1
    assert store.runs.totals("p1")["runs"] == 0


def test_invalid_values_are_refused(store: SqliteStore) -> None:
    """NaN has no SQLite REAL (it would become NULL) and no DynamoDB number either: refuse it."""
    store.projects.add(project())
    t = mk_test("p1", 1)
    store.tests.add_many([t])
    with pytest.raises(ValueError):
        store.runs.add_many([run(t, 1, status="exploded")])
    with pytest.raises(ValueError):
        store.keys.add(ApiKey("k1", "h1", "bob", "god", None, "t", "u"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.tests.add_many([replace(mk_test("p1", 2), score=float("nan"))])
    assert store.tests.max_seq("p1") == 1


def test_audit_rows_cannot_be_changed_through_sql(store: SqliteStore) -> None:
    store.audit.append(principal="a", action="x", project_id=None, target=None, details={})
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET principal = 'm'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="fixed"):
        conn.execute("UPDATE audit_anchor SET seq = 5")
    conn.close()


def test_a_failing_method_inside_a_transaction_leaves_its_batch_out_but_the_rest_in(
    store: SqliteStore,
) -> None:
    store.projects.add(project())
    first = mk_test("p1", 1)
    store.tests.add_many([first])
    with store.transaction():
        store.projects.set_budget("p1", 7.0)
        with pytest.raises(Conflict):
            store.tests.add_many([mk_test("p1", 2), mk_test("p1", 1, tid="dupe_seq")])
        store.tests.add_many([mk_test("p1", 3)])
    assert [t.seq for t in store.tests.list_since("p1")] == [1, 3]
    assert store.projects.get("p1").budget_cents == 7.0  # type: ignore[union-attr]


def test_run_conflict_names_the_clashing_tests(store: SqliteStore) -> None:
    store.projects.add(project())
    tests = [mk_test("p1", s) for s in (1, 2, 3)]
    store.tests.add_many(tests)
    store.runs.add_many([run(tests[1], 1)])
    with pytest.raises(Conflict) as caught:
        store.runs.add_many([run(tests[0], 2), run(tests[1], 3)])
    assert tests[1].id in caught.value.message
    assert [d["test_id"] for d in caught.value.details] == [tests[1].id]


# -- query plans -------------------------------------------------------------------------------

PLANS = {
    "SELECT id FROM tests WHERE project_id = ? AND seq > ? ORDER BY seq": "tests",
    "SELECT MAX(seq) FROM tests WHERE project_id = ?": "tests",
    "SELECT id FROM tests WHERE project_id = ? AND id IN (?, ?)": "tests",
    "SELECT test_id FROM runs WHERE project_id = ? AND seq > ? ORDER BY seq": "runs",
    "SELECT MAX(seq) FROM runs WHERE project_id = ?": "runs",
    "SELECT COUNT(*), SUM(cost_cents), SUM(status = 'fail') FROM runs WHERE project_id = ?": "runs",
    "SELECT id FROM constraints WHERE project_id = ? AND name = ? ORDER BY version": "constraints",
    "SELECT id FROM api_keys WHERE key_hash = ?": "api_keys",
    "SELECT id FROM api_keys WHERE project_id = ? ORDER BY created_at, id": "api_keys",
    "SELECT seq FROM audit_log WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?": "audit_log",
    "SELECT seq FROM audit_log WHERE ord > ? ORDER BY ord LIMIT ?": "audit_log",
    "SELECT seq FROM audit_log WHERE ord > ? AND action = ? ORDER BY ord LIMIT ?": "audit_log",
    "SELECT seq FROM audit_log WHERE shard = ? AND seq > ? ORDER BY seq": "audit_log",
    "SELECT seq, hash FROM audit_heads WHERE shard = ?": "audit_heads",
}


@pytest.mark.parametrize("sql", list(PLANS))
def test_every_query_pattern_uses_an_index(store: SqliteStore, sql: str) -> None:
    plan = " | ".join(
        r[3] for r in store.db.conn().execute("EXPLAIN QUERY PLAN " + sql, (1,) * sql.count("?"))
    )
    assert f"SEARCH {PLANS[sql]} USING" in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


def test_totals_is_covered_by_its_index(store: SqliteStore) -> None:
    sql = (
        "SELECT COUNT(*), COALESCE(SUM(cost_cents), 0.0), COALESCE(SUM(status = 'fail'), 0)"
        " FROM runs WHERE project_id = ?"
    )
    plan = store.db.conn().execute("EXPLAIN QUERY PLAN " + sql, ("p",)).fetchall()
    assert "COVERING INDEX runs_totals" in plan[0][3]


# -- connections, threads, processes -----------------------------------------------------------


def test_connections_of_finished_threads_are_closed(store: SqliteStore) -> None:
    for _ in range(5):
        t = threading.Thread(target=lambda: store.projects.get("x"))
        t.start()
        t.join()
    store.projects.get("x")  # this thread's connection already exists: no pruning needed
    t = threading.Thread(target=lambda: store.projects.get("x"))
    t.start()
    t.join()
    assert len(store.db._conns) <= 2  # main thread + at most the last finished one


def test_closed_store_refuses_use(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db")
    s.close()
    s.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        s.projects.get("p1")


def test_busy_timeout_waits_for_another_process_lock(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db", busy_timeout_s=5)
    other = sqlite3.connect(tmp_path / "db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.2, lambda: other.execute("COMMIT"))
    releaser.start()
    t0 = time.perf_counter()
    s.projects.add(project())  # waits for the foreign write lock instead of failing
    assert time.perf_counter() - t0 >= 0.15
    releaser.join()
    other.close()
    s.close()


def test_busy_timeout_expires(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db", busy_timeout_s=0.1)
    other = sqlite3.connect(tmp_path / "db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        s.projects.add(project())
    other.execute("ROLLBACK")
    s.projects.add(project())  # usable again afterwards
    other.close()
    s.close()


def test_two_processes_appending_share_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "db"
    SqliteStore(path).close()
    script = (
        "import sys; from optiloop.store.sqlite import SqliteStore\n"
        "s = SqliteStore(sys.argv[1])\n"
        "for i in range(60):\n"
        "    s.audit.append(principal=sys.argv[2], action='x', project_id=None, target=None,\n"
        "                   details={'i': i})\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), name], env={"PYTHONPATH": SHARED})
        for name in ("proc_a", "proc_b")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    s = SqliteStore(path)
    records = s.audit.list(limit=1000)
    assert [r.seq for r in records] == list(range(1, 121))
    assert {r.principal for r in records} == {"proc_a", "proc_b"}
    assert s.audit.verify() == (True, None)
    s.close()
