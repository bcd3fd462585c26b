"""DynamoDB transactions beyond the contract: batches over 100 items, the staged commit and its
failure modes, and writers in two processes (two store objects on one table) racing each other."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("moto")

from optiloop.errors import Conflict
from optiloop.store.dynamodb import DynamoStore
from optiloop.store.dynamodb.codec import enc_int
from optiloop.store.dynamodb.commit import MAX_BYTES, MAX_ITEMS, Committer
from optiloop.store.dynamodb.history import pk_tests_by_seq
from optiloop.store.dynamodb.staging import ABORTED, COMMITTED, PENDING, marker_key
from optiloop.store.dynamodb.store import dynamodb_client
from optiloop.store.dynamodb.table import Table
from optiloop.store.dynamodb.testing import create_table, mocked_aws
from optiloop.store.records import ApiKey, Project, Run, TestCase

_names = itertools.count(1)


@pytest.fixture(scope="module")
def ddb() -> Iterator[Any]:
    with mocked_aws():
        yield dynamodb_client("us-east-1")


@pytest.fixture
def table(ddb: Any) -> str:
    name = f"unit-tx-{next(_names)}"
    create_table(ddb, name)
    return name


@pytest.fixture
def store(ddb: Any, table: str) -> DynamoStore:
    s = DynamoStore(table, client=ddb)
    s.projects.add(project())
    return s


def other(ddb: Any, table: str, **kw: Any) -> DynamoStore:
    """A second store on the same table: what another Lambda sees (no shared caches or buffers)."""
    return DynamoStore(table, client=ddb, **kw)


def project(pid: str = "p1") -> Project:
    return Project(pid, "name", "desc", "2025-01-01T00:00:00.000Z", "alice")


def mk_test(pid: str, seq: int, tid: str | None = None, params: dict | None = None) -> TestCase:
    return TestCase(
        tid or f"{pid}_t{seq}", pid, seq, params or {"x": seq}, 0.5, "g", "op", "s1", 1.0, "t", "sv"
    )


def run(test: TestCase, seq: int) -> Run:
    return Run(test.id, test.project_id, seq, "pass", 1.0, 1.0, 0, (1, 2), 1, "t", "fp")


def raw_count(ddb: Any, table: str, pk: str) -> int:
    resp = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": pk}},
        Select="COUNT",
        ConsistentRead=True,
    )
    return int(resp["Count"])


def marker_state(ddb: Any, table: str, tx: str) -> dict[str, Any] | None:
    pk, sk = marker_key(tx)
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get(
        "Item"
    )


class Spy:
    """Records every transaction the store sends: sizes, and the staged transaction's id."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        real = Table.transact

        def transact(table: Table, ops: Any, token: str | None = None) -> None:
            self.calls.append(list(ops))
            return real(table, ops, token)

        monkeypatch.setattr(Table, "transact", transact)

    def staged_tx(self) -> str:
        for ops in self.calls:
            for op in ops:
                item = op.get("Put", {}).get("Item", {})
                if "tx" in item:
                    return item["tx"]["S"]
        raise AssertionError("nothing was staged")


def suggest_like(store: DynamoStore, tests: list[TestCase]) -> None:
    """What tests:suggest does: the batch and its audit record in one transaction."""
    with store.transaction():
        store.tests.add_many(tests)
        store.audit.append(
            principal="alice",
            action="tests.suggest",
            project_id="p1",
            target="sug_1",
            details={"test_ids": [t.id for t in tests]},
        )


# -- more than 100 items ---------------------------------------------------------------------------


def test_500_tests_and_their_audit_record_commit_as_one(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    tests = [mk_test("p1", s) for s in range(1, 501)]
    suggest_like(store, tests)
    # 1,000 history items + counter + audit record + head cannot be one TransactWriteItems
    assert len(spy.calls) > 10 and all(len(ops) <= MAX_ITEMS for ops in spy.calls)
    assert store.tests.max_seq("p1") == 500
    assert store.tests.list_since("p1") == tests
    assert store.tests.get_many("p1", [t.id for t in tests]) == {t.id: t for t in tests}
    (rec,) = store.audit.list()
    assert rec.seq == 1 and rec.details["test_ids"][-1] == "p1_t500"
    assert store.audit.verify() == (True, None)
    assert marker_state(store.table.client, store.table_name, spy.staged_tx())["st"]["S"] == COMMITTED  # type: ignore[index]


def test_500_runs_commit_as_one(store: DynamoStore) -> None:
    tests = [mk_test("p1", s) for s in range(1, 501)]
    store.tests.add_many(tests)
    with store.transaction():
        store.runs.add_many([run(t, i + 1) for i, t in enumerate(tests)])
        store.audit.append(principal="a", action="runs.ingested", project_id="p1", target=None, details={})
    assert store.runs.totals("p1") == {"runs": 500, "cost_cents": 500.0, "failures": 0}
    assert len(store.runs.list_since("p1", after_seq=250)) == 250
    assert len(store.runs.get_many("p1", [t.id for t in tests])) == 500


def test_a_fresh_reader_sees_a_staged_batch_only_after_the_commit_point(
    ddb: Any, table: str, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = [mk_test("p1", s) for s in range(1, 151)]
    seen: list[tuple[Any, ...]] = []
    real_final = Committer._final

    def final(self: Committer, p: Any, writes: Any, marker: str | None = None) -> None:
        if marker is not None:  # the staged items are written, the commit point not yet reached
            reader = other(ddb, table)
            seen.append(
                (
                    raw_count(ddb, table, pk_tests_by_seq("p1")),
                    reader.tests.max_seq("p1"),
                    reader.tests.list_since("p1"),
                    reader.tests.get_many("p1", [t.id for t in tests]),
                    reader.audit.list(),
                )
            )
        real_final(self, p, writes, marker)

    monkeypatch.setattr(Committer, "_final", final)
    suggest_like(store, tests)
    assert seen == [(150, 0, [], {}, [])]  # all 150 items stored, none of them visible
    reader = other(ddb, table)
    assert reader.tests.list_since("p1") == tests


def test_a_failure_at_the_commit_point_deletes_the_staged_items(
    ddb: Any, table: str, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    real_final = Committer._final

    def final(self: Committer, p: Any, writes: Any, marker: str | None = None) -> None:
        if marker is not None:  # between staging and the commit point, another Lambda takes the id
            other(ddb, table).projects.add(project("p2"))
        real_final(self, p, writes, marker)

    monkeypatch.setattr(Committer, "_final", final)
    tests = [mk_test("p1", s) for s in range(1, 151)]
    with pytest.raises(Conflict), store.transaction():
        store.projects.add(project("p2"))
        store.tests.add_many(tests)
    tx = spy.staged_tx()
    marker = marker_state(ddb, table, tx)
    assert marker is not None and marker["st"]["S"] == ABORTED and "expires_at" in marker
    assert raw_count(ddb, table, pk_tests_by_seq("p1")) == 0
    assert store.tests.max_seq("p1") == 0 and store.tests.get_many("p1", [tests[0].id]) == {}
    monkeypatch.setattr(Committer, "_final", real_final)
    store.tests.add_many(tests)  # the seqs and ids are free again
    assert len(store.tests.list_since("p1")) == 150


def test_a_crashed_staged_commit_stays_invisible_and_is_reclaimed_once_stale(
    ddb: Any, table: str, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Died(BaseException):
        pass

    spy = Spy(monkeypatch)

    def die(self: Committer, p: Any, writes: Any, marker: str | None = None) -> None:
        raise Died  # the Lambda timed out after staging, before the commit point

    monkeypatch.setattr(Committer, "_final", die)
    monkeypatch.setattr(Committer, "_abort", lambda self, tx, written: None)  # ...so no clean-up ran
    crashed = [mk_test("p1", s, tid=f"old{s}") for s in range(1, 151)]
    with pytest.raises(Died):
        suggest_like(store, crashed)
    monkeypatch.undo()
    tx = spy.staged_tx()
    assert marker_state(ddb, table, tx)["st"]["S"] == PENDING  # type: ignore[index]
    assert raw_count(ddb, table, pk_tests_by_seq("p1")) == 150

    fresh = other(ddb, table)  # the next Lambda: same seqs, because the counter never moved
    assert fresh.tests.max_seq("p1") == 0 and fresh.tests.list_since("p1") == []
    retry = [mk_test("p1", s, tid=f"new{s}") for s in range(1, 21)]
    with pytest.raises(Conflict):  # still pending and young: it might be a live writer
        fresh.tests.add_many(retry)

    late = other(ddb, table, stale_after_s=0.0)  # ...and once it is older than stale_after_s
    late.tests.add_many(retry)
    assert marker_state(ddb, table, tx)["st"]["S"] == ABORTED  # type: ignore[index]
    assert late.tests.list_since("p1") == retry  # the other 130 leftovers stay invisible
    assert late.tests.get_many("p1", [t.id for t in crashed]) == {}
    assert late.tests.max_seq("p1") == 20
    # the crashed writer can no longer commit: its marker is not pending any more
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[late.visibility.marker_commit(tx), late.visibility.marker_put("x")]
        )


def test_too_many_unstageable_writes_are_refused_before_anything_is_written(store: DynamoStore) -> None:
    with pytest.raises(ValueError, match="too large"), store.transaction():
        for i in range(MAX_ITEMS + 5):
            store.projects.add(project(f"q{i}"))
    assert [p.id for p in store.projects.list()] == ["p1"]


def test_batches_over_4mb_are_chunked_by_size(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    blob = "x" * 150_000
    tests = [mk_test("p1", s, params={"blob": blob, "s": s}) for s in range(1, 31)]  # 60 items, ~9 MB
    suggest_like(store, tests)
    assert all(sum(len(str(op)) for op in ops) < MAX_BYTES + 100_000 for ops in spy.calls)
    assert len(spy.calls) >= 3
    assert [t.params["s"] for t in store.tests.list_since("p1")] == list(range(1, 31))


def test_an_item_over_400kb_is_refused(store: DynamoStore) -> None:
    with pytest.raises(ValueError, match="400 KB"):
        store.tests.add_many([mk_test("p1", 1, params={"blob": "x" * 500_000})])
    assert store.tests.max_seq("p1") == 0


# -- transactions and their buffer ----------------------------------------------------------------


def test_a_failing_method_inside_a_transaction_leaves_its_batch_out_but_the_rest_in(
    store: DynamoStore,
) -> None:
    """Conflicts are found when the method runs (reads before buffering), not only at commit."""
    store.tests.add_many([mk_test("p1", 1)])
    with store.transaction():
        store.projects.set_budget("p1", 7.0)
        with pytest.raises(Conflict):
            store.tests.add_many([mk_test("p1", 2), mk_test("p1", 1, tid="dupe_seq")])
        store.tests.add_many([mk_test("p1", 3)])
    assert [t.seq for t in store.tests.list_since("p1")] == [1, 3]
    assert store.projects.get("p1").budget_cents == 7.0  # type: ignore[union-attr]


def test_list_since_reads_no_further_than_the_committed_counter(
    ddb: Any, table: str, store: DynamoStore
) -> None:
    """An item without its counter move is what a half-applied transaction looks like to a Query."""
    store.tests.add_many([mk_test("p1", 1)])
    item = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": pk_tests_by_seq("p1")}, "sk": {"S": enc_int(1)}},
        ConsistentRead=True,
    )["Item"]
    item["sk"] = {"S": enc_int(2)}
    item["seq"] = {"N": "2"}
    ddb.put_item(TableName=table, Item=item)
    assert [t.seq for t in store.tests.list_since("p1")] == [1]
    assert store.tests.max_seq("p1") == 1


# -- two processes -------------------------------------------------------------------------------


def test_two_writers_taking_the_same_seq_one_gets_conflict(ddb: Any, table: str, store: DynamoStore) -> None:
    b = other(ddb, table)
    with pytest.raises(Conflict), store.transaction():
        store.tests.add_many([mk_test("p1", 1, tid="a1")])  # checked: seq 1 is free
        b.tests.add_many([mk_test("p1", 1, tid="b1")])  # ...but another Lambda commits it first
    assert store.tests.list_since("p1") == [mk_test("p1", 1, tid="b1")]


def test_two_bootstraps_at_once_create_one_key(ddb: Any, table: str, store: DynamoStore) -> None:
    def key(kid: str) -> ApiKey:
        return ApiKey(kid, "h_" + kid, "admin", "admin", None, "t", "bootstrap")

    b = other(ddb, table)
    with pytest.raises(Conflict), store.transaction():
        assert store.keys.count() == 0
        store.keys.add(key("k_a"))
        with b.transaction():
            assert b.keys.count() == 0
            b.keys.add(key("k_b"))
    assert store.keys.count() == 1 and [k.id for k in store.keys.list()] == ["k_b"]


def test_appends_from_two_processes_form_one_chain(ddb: Any, table: str, store: DynamoStore) -> None:
    stores = [store, other(ddb, table)]  # separate head caches: each often chains to a stale head
    errors: list[BaseException] = []

    def worker(s: DynamoStore, n: int) -> None:
        try:
            for i in range(25):
                s.audit.append(principal=f"w{n}", action="x", project_id=None, target=None, details={"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.seq for r in store.audit.list()] == list(range(1, 51))
    assert store.audit.verify() == (True, None)


def test_a_record_appended_in_a_transaction_is_rechained_if_another_process_appends_first(
    ddb: Any, table: str, store: DynamoStore
) -> None:
    b = other(ddb, table)
    with store.transaction():
        mine = store.audit.append(principal="a", action="x", project_id="p1", target=None, details={})
        assert mine.seq == 1
        theirs = b.audit.append(principal="b", action="y", project_id="p1", target=None, details={})
    assert theirs.seq == 1
    assert (mine.seq, mine.prev_hash) == (2, theirs.hash)  # updated in place at commit
    assert store.audit.list() == [theirs, mine]
    assert store.audit.verify() == (True, None)


def test_nested_transactions_share_one_buffer_and_commit_once(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.committer.anchor()  # the table's first audit write ever creates the anchor, once
    spy = Spy(monkeypatch)
    with store.transaction():
        store.projects.add(project("p2"))
        with store.transaction():
            store.tests.add_many([mk_test("p2", 1)])
        assert spy.calls == []  # the inner exit sent nothing
        store.audit.append(principal="a", action="x", project_id="p2", target=None, details={})
    assert len(spy.calls) == 1
    assert replace(store.tests.list_since("p2")[0]) == mk_test("p2", 1)
