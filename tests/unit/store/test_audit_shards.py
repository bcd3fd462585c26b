"""The sharded audit trail beyond the port contract: migrating a single-chain trail (SQLite schema v3,
DynamoDB items) without losing verifiability, and concurrent writers under moto, each its own
"Lambda" (its own app, store, head cache and locks): 20 writers on 20 projects are never refused;
8 ingesters on one hot project lose nothing, are refused only with 409 + Retry-After, and succeed
on retry."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from optiloop.audit.chain import GENESIS_HASH, canonical_json, new_audit_id, record_hash
from optiloop.store.records import AuditRecord, Project, TestCase
from optiloop.store.sqlite import SqliteStore
from optiloop.store.sqlite.schema import MIGRATIONS

TOKEN = "test-admin-token-0123456789"


def legacy_chain(n: int) -> list[AuditRecord]:
    """A single tenant-wide chain as earlier releases wrote it (mixed projects, one seq)."""
    out: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        rec = AuditRecord(
            seq=seq,
            id=new_audit_id(),
            at=f"2025-01-01T00:00:{seq:02d}.000Z",
            principal="old",
            action="run.ingest" if seq % 2 else "key.create",
            project_id="p1" if seq % 3 else None,
            target=None,
            details={"seq": seq},
            prev_hash=prev,
        )
        fields = ("seq", "id", "at", "principal", "action", "project_id", "target", "details")
        prev = record_hash(prev, **{k: getattr(rec, k) for k in fields})
        out.append(AuditRecord(**{**rec.__dict__, "hash": prev}))
    return out


# -- SQLite: schema v2 (one chain) -> v3 (shards) ----------------------------------------------


def test_sqlite_migration_seals_the_single_chain_as_the_legacy_prefix(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, statements in MIGRATIONS[:2]:
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO schema_version VALUES (?, 'then')", (version,))
    old = legacy_chain(7)
    for r in old:
        conn.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.seq, r.id, r.at, r.principal, r.action, r.project_id, r.target, canonical_json(r.details),
             r.prev_hash, r.hash),
        )  # fmt: skip
    conn.close()

    store = SqliteStore(path)  # migrates to v3
    anchor = store.audit.anchor()
    assert (anchor.seq, anchor.hash) == (7, old[-1].hash)
    assert tuple(store.audit.verify()) == (True, None)
    new = store.audit.append(principal="a", action="x", project_id="p1", target=None, details={})
    assert (new.shard, new.seq, new.prev_hash) == ("p/p1", 8, old[-1].hash)  # continues from the anchor
    mine = [r.seq for r in old if r.project_id == "p1"]
    assert [r.seq for r in store.audit.list(project_id="p1")] == [*mine, 8]  # one seq order, old then new
    assert [r.seq for r in store.audit.list(project_id="p1", after_seq=mine[-1])] == [8]
    everything = store.audit.list()
    assert [r.shard for r in everything] == ["legacy"] * 7 + ["p/p1"]
    assert [r.hash for r in everything[:7]] == [r.hash for r in old]  # byte for byte
    assert tuple(store.audit.verify()) == (True, None)
    # the sealed prefix stays tamper-evident
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("UPDATE audit_log SET principal = 'x' WHERE shard = 'legacy' AND seq = 3")
    raw.close()
    v = store.audit.verify()
    assert not v.ok and (v.problem["shard"], v.problem["seq"]) == ("legacy", 3)  # type: ignore[index]


# -- DynamoDB under moto -------------------------------------------------------------------------

pytest.importorskip("moto")


@pytest.fixture(scope="module")
def ddb() -> Iterator[Any]:
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.testing import mocked_aws

    with mocked_aws():
        yield dynamodb_client("us-east-1")


_names = iter(range(10_000))


@pytest.fixture
def table(ddb: Any) -> str:
    from optiloop.store.dynamodb.testing import create_table

    name = f"shards-{next(_names)}"
    create_table(ddb, name)
    return name


def put_legacy(ddb: Any, table: str, records: list[AuditRecord]) -> None:
    """Items exactly as the single-chain release wrote them."""
    from optiloop.store.dynamodb.codec import enc_int

    for r in records:
        item = {
            "pk": {"S": "AUDIT"}, "sk": {"S": enc_int(r.seq)}, "seq": {"N": str(r.seq)}, "id": {"S": r.id},
            "at": {"S": r.at}, "principal": {"S": r.principal}, "action": {"S": r.action},
            "details": {"S": canonical_json(r.details)}, "prev_hash": {"S": r.prev_hash},
            "hash": {"S": r.hash},
            "gsi2pk": {"S": f"AUDIT#A#{r.action}"}, "gsi2sk": {"S": enc_int(r.seq)},
        }  # fmt: skip
        if r.project_id:
            item["project_id"] = {"S": r.project_id}
            item["gsi1pk"], item["gsi1sk"] = {"S": f"AUDIT#P#{r.project_id}"}, {"S": enc_int(r.seq)}
        ddb.put_item(TableName=table, Item=item)
    last = records[-1]
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "AUDIT#HEAD"},
            "sk": {"S": "HEAD"},
            "seq": {"N": str(last.seq)},
            "hash": {"S": last.hash},
        },
    )


def test_dynamodb_migration_seals_the_single_chain_on_first_write(ddb: Any, table: str) -> None:
    from optiloop.store.dynamodb import DynamoStore

    old = legacy_chain(6)
    put_legacy(ddb, table, old)
    store = DynamoStore(table, client=ddb)
    new = store.audit.append(principal="a", action="x", project_id="p1", target=None, details={})
    assert (new.seq, new.prev_hash) == (7, old[-1].hash)
    head = ddb.get_item(TableName=table, Key={"pk": {"S": "AUDIT#HEAD"}, "sk": {"S": "HEAD"}})
    assert "Item" not in head  # an old-release writer can no longer extend the legacy chain
    mine = [r.seq for r in old if r.project_id == "p1"]
    assert [r.seq for r in store.audit.list(project_id="p1")] == [*mine, 7]
    assert [r.shard for r in store.audit.list()] == ["legacy"] * 6 + ["p/p1"]
    assert [r.seq for r in store.audit.list(action="run.ingest")] == [
        r.seq for r in old if r.action == "run.ingest"
    ]
    assert tuple(store.audit.verify()) == (True, None)
    again = DynamoStore(table, client=ddb)  # another Lambda: reads the anchor, migrates nothing
    assert again.audit.append(principal="b", action="x", project_id="p2", target=None, details={}).seq == 7
    assert tuple(again.audit.verify()) == (True, None)


# -- concurrent writers, each its own Lambda ---------------------------------------------------


def _lambda(ddb: Any, table: str, attempts: int) -> Any:
    from fastapi.testclient import TestClient

    from optiloop.api.app import create_app
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.dynamodb import DynamoStore
    from optiloop.store.local_blobs import LocalBlobStore

    deps = Deps(
        store=DynamoStore(table, client=ddb, commit_attempts=attempts), blobs=LocalBlobStore("/tmp/x")
    )
    return TestClient(create_app(deps, Settings(backend="memory", admin_token=TOKEN)))


def _tests(store: Any, pid: str, n: int) -> list[str]:
    store.projects.add(Project(pid, pid, "", "2026-01-01T00:00:00.000Z", "t"))
    tests = [
        TestCase(f"{pid}_t{i}", pid, i, {"x": i}, 0.0, "random", "uniform", "s", 1.0, "2026-01-01", "v")
        for i in range(1, n + 1)
    ]  # fmt: skip
    store.tests.add_many(tests)
    return [t.id for t in tests]


def _run_writers(
    clients: list[Any], jobs: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], int]:
    """Each writer ingests its runs one request at a time, retrying a 409 after its Retry-After
    (scaled down to 20 ms a second, to keep the test short). Returns (non-retryable answers, refusals)."""
    import optiloop.testopt.ingest as ingest

    # each "Lambda" is its own process: no in-process lock shared between them
    monkeypatch.setattr(ingest, "_lock_for", lambda pid: contextlib.nullcontext())
    bad: list[Any] = []
    refusals = [0]
    guard = threading.Lock()
    start = threading.Barrier(len(clients))
    h = {"Authorization": f"Bearer {TOKEN}"}

    def work(client: Any, pid: str, test_ids: list[str]) -> None:
        # jittered, as the SDK waits (optiloop.client.retry): eight writers sleeping the same 20 ms
        # came back in step and collided again, and on a loaded CI machine ran out of attempts
        rng = random.Random(f"{pid}/{test_ids[0]}")
        start.wait()
        for tid in test_ids:
            for _ in range(50):
                r = client.post(
                    f"/v1/projects/{pid}/runs:ingest",
                    headers=h,
                    json={"runs": [{"test_id": tid, "status": "pass", "cost_cents": 1.5}]},
                )
                if (
                    r.status_code == 409
                    and "Retry-After" in r.headers
                    and r.json()["error"]["code"] == "contended"
                ):
                    with guard:
                        refusals[0] += 1
                    time.sleep(int(r.headers["Retry-After"]) * 0.02 * (1 + rng.random()))
                    continue
                if r.status_code != 200:
                    with guard:
                        bad.append((r.status_code, r.text))
                break
            else:  # never silently: a run that was never written shows as the failure it is
                with guard:
                    bad.append((409, f"{tid}: still contended after 50 attempts"))

    threads = [
        threading.Thread(target=work, args=(c, pid, ids)) for c, (pid, ids) in zip(clients, jobs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bad, refusals[0]


def test_twenty_writers_on_twenty_projects_are_never_refused(
    ddb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = [_lambda(ddb, table, attempts=1) for _ in range(20)]  # a single attempt: any contention shows
    store = clients[0].app.state.deps.store
    jobs = [(f"p{i}", _tests(store, f"p{i}", 3)) for i in range(20)]
    bad, refusals = _run_writers(clients, jobs, monkeypatch)
    assert bad == [] and refusals == 0
    for pid, ids in jobs:
        assert store.runs.max_seq(pid) == len(ids)
        assert [r.action for r in store.audit.list(project_id=pid)] == ["runs.ingested"] * len(ids)
    assert tuple(store.audit.verify()) == (True, None)


def test_one_hot_project_with_eight_ingesters_loses_nothing(
    ddb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = [_lambda(ddb, table, attempts=1) for _ in range(8)]
    store = clients[0].app.state.deps.store
    ids = _tests(store, "hot", 40)
    jobs = [("hot", ids[i::8]) for i in range(8)]
    bad, refusals = _run_writers(clients, jobs, monkeypatch)
    assert bad == []  # every refusal was a 409 with Retry-After, and every request succeeded on retry
    assert store.runs.max_seq("hot") == 40
    assert sorted(r.test_id for r in store.runs.list_since("hot")) == sorted(ids)
    trail = store.audit.list(project_id="hot", limit=1000)
    assert [r.seq for r in trail] == list(range(1, len(trail) + 1))  # one gap-free chain
    assert sum(r.action == "runs.ingested" for r in trail) == 40
    # each 409 is recorded too, best effort (that append contends on the same hot chain and may lose)
    assert 0 < sum(r.action == "request.refused" for r in trail) <= refusals or refusals == 0
    assert tuple(store.audit.verify()) == (True, None)
    print(f"hot project: {refusals} refusals (409 + Retry-After) for 40 requests, all retried successfully")
