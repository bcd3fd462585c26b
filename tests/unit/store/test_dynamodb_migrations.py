"""DynamoDB item-format migrations under moto, on a table populated through the real ports
(docs/migrations.md, `optiloop.store.dynamodb.formats`).

Unlike SQLite, this release reads every format it can migrate to (readers accept the previous format),
so at each version the check is the same: a fresh store reads back everything and its audit trail
verifies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("moto")

from migration_population import audit_content, populate, snapshot

from optiloop.store.dynamodb import formats
from optiloop.store.dynamodb.formats import LATEST_FORMAT, fmt_of, migrate_table, readable, table_version
from optiloop.store.dynamodb.table import Table
from optiloop.store.migrations import DataLossRefused


@pytest.fixture(scope="module")
def ddb() -> Iterator[Any]:
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.testing import mocked_aws

    with mocked_aws():
        yield dynamodb_client("us-east-1")


_names = iter(range(10_000))


@pytest.fixture
def populated(ddb: Any) -> tuple[Table, dict[str, Any]]:
    from optiloop.store.dynamodb import DynamoStore
    from optiloop.store.dynamodb.testing import create_table

    name = f"formats-{next(_names)}"
    create_table(ddb, name)
    store = DynamoStore(name, client=ddb)
    populate(store)
    before = snapshot(store)
    assert tuple(store.audit.verify()) == (True, None)
    return Table(ddb, name), before


def _items(table: Table) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kw: dict[str, Any] = {"TableName": table.name}
    while True:
        resp = table.client.scan(**kw)
        out += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return out
        kw["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _pks(table: Table, prefix: str) -> list[str]:
    return [i["pk"]["S"] for i in _items(table) if i["pk"]["S"].startswith(prefix)]


def _check(table: Table, before: dict[str, Any], *, exact_audit: bool = True) -> Any:
    """A fresh store (another Lambda) reads it all back and its trail verifies; writes nothing."""
    from optiloop.store.dynamodb import DynamoStore

    items = len(_items(table))
    store = DynamoStore(table.name, client=table.client)
    now = snapshot(store)
    if exact_audit:
        assert now == before
    else:
        assert {k: v for k, v in now.items() if "audit" not in k} == {
            k: v for k, v in before.items() if "audit" not in k
        }
    assert tuple(store.audit.verify()) == (True, None)
    assert all(readable(i) for i in _items(table))
    assert len(_items(table)) == items  # reading sealed nothing
    return store


def test_down_to_1_and_back_up_keeps_every_record(populated: tuple[Table, dict[str, Any]]) -> None:
    table, before = populated
    assert table_version(table) == 2  # detected: a writer of this release sealed the trail
    assert migrate_table(table, page_size=2) == LATEST_FORMAT == 4
    assert {fmt_of(i) for i in _items(table) if i["pk"]["S"] == "PROJECT"} == {1}
    assert all("fmt" in i for i in _items(table) if i["pk"]["S"] == "PROJECT")
    _check(table, before)

    assert migrate_table(table, 2, page_size=2) == 2
    assert not any("fmt" in i for i in _items(table))
    _check(table, before)

    log: list[str] = []
    assert migrate_table(table, 1, log=log.append) == 1
    assert any("folded" in m for m in log)
    assert (
        _pks(table, "AUDIT#S#") == []
        and _pks(table, "AUDIT#ANCHOR") == []
        and _pks(table, "AUDIT#SHARDS") == []
    )
    assert _pks(table, "AUDIT#HEAD") == ["AUDIT#HEAD"]
    legacy = [i for i in _items(table) if i["pk"]["S"] == "AUDIT"]
    assert sorted(int(i["seq"]["N"]) for i in legacy) == list(range(1, len(before["audit"]) + 1))
    assert all(fmt_of(i) == 1 for i in _items(table) if i["pk"]["S"].startswith("AUDIT"))
    store = _check(table, before)  # this release reads format 1 without sealing it
    assert {r.shard for r in store.audit.list()} == {"legacy"}

    assert migrate_table(table) == LATEST_FORMAT
    store = _check(table, before)
    rec = store.audit.append(principal="a", action="x", project_id="p2", target=None, details={})
    assert rec.seq == len(before["audit"]) + 1
    assert tuple(store.audit.verify()) == (True, None)
    assert migrate_table(table) == LATEST_FORMAT  # idempotent


def test_a_format_1_table_is_sealed_by_this_release_writer(populated: tuple[Table, dict[str, Any]]) -> None:
    from optiloop.store.dynamodb import DynamoStore

    table, before = populated
    migrate_table(table, 1)
    assert table_version(table) == 1
    store = DynamoStore(table.name, client=table.client)  # a rolling deploy: the new release writes first
    store.audit.append(principal="a", action="x", project_id="p1", target=None, details={})
    assert table_version(table) == 2  # whatever the FORMAT item said
    assert migrate_table(table) == LATEST_FORMAT
    _check(table, before, exact_audit=False)


def test_a_failing_step_is_undone_and_leaves_the_previous_version(
    populated: tuple[Table, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, before = populated
    real = formats._put_batch
    calls = {"n": 0}

    def fail_second(t: Table, items: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("network gone")
        real(t, items)

    monkeypatch.setattr(formats, "_put_batch", fail_second)
    monkeypatch.setattr(formats, "_BATCH", 3)
    with pytest.raises(ConnectionError):
        migrate_table(table, 1)
    assert table_version(table) == 2
    assert [i for i in _items(table) if "folded_from" in i] == []  # the copied batch was undone
    _check(table, before)
    monkeypatch.setattr(formats, "_put_batch", real)
    assert migrate_table(table, 1) == 1
    _check(table, before)


def test_a_run_that_died_mid_step_is_resumed(
    populated: tuple[Table, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, before = populated
    real = formats._put_batch
    calls = {"n": 0}

    def fail_second(t: Table, items: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("killed")  # as if the process died: no undo either
        real(t, items)

    def undo_fails(ctx: Any) -> None:
        raise ConnectionError("gone too")

    monkeypatch.setattr(formats, "_put_batch", fail_second)
    monkeypatch.setattr(formats, "_BATCH", 3)
    step2 = formats.STEPS[0]
    dying = formats.FormatStep(2, "x", step2.up, step2.down, undo_fails, step2.loses)
    monkeypatch.setattr(formats, "STEPS", [dying, *formats.STEPS[1:]])
    with pytest.raises(SystemExit):
        migrate_table(table, 1)
    meta = table.get(formats.META_KEY)
    assert meta is not None and meta["p_phase"]["S"] == "copy" and meta["p_cursor"]["S"] == "3"
    monkeypatch.setattr(formats, "_put_batch", real)
    monkeypatch.setattr(formats, "STEPS", [step2, *formats.STEPS[1:]])
    assert migrate_table(table, 1) == 1  # resumes after the 3 records already copied
    _check(table, before)
    assert migrate_table(table) == LATEST_FORMAT
    _check(table, before)


def test_dropping_signed_digests_needs_the_flag(populated: tuple[Table, dict[str, Any]]) -> None:
    from optiloop.audit.digest import seal
    from optiloop.audit.signing import HmacFileSigner
    from optiloop.store.dynamodb import DynamoStore

    table, before = populated
    store = DynamoStore(table.name, client=table.client)
    assert seal(store.audit, HmacFileSigner(None), force=True) is not None
    with pytest.raises(DataLossRefused, match="1 signed audit digests"):
        migrate_table(table, 1)
    assert table_version(table) == 2 and _pks(table, "AUDIT#DIGEST")
    assert migrate_table(table, 1, allow_data_loss=True) == 1
    assert _pks(table, "AUDIT#DIGEST") == []
    store = _check(table, before)
    assert audit_content(store.audit.list(limit=1000)) == before["audit"]


def test_a_tampered_trail_is_not_folded(populated: tuple[Table, dict[str, Any]]) -> None:
    table, _ = populated
    item = next(
        i for i in _items(table) if i["pk"]["S"].startswith("AUDIT#S#") and i["sk"]["S"].startswith("R#")
    )
    item["principal"] = {"S": "mallory"}
    table.client.put_item(TableName=table.name, Item=item)
    with pytest.raises(RuntimeError, match="does not verify"):
        migrate_table(table, 1)
    assert table_version(table) == 2 and [i for i in _items(table) if "folded_from" in i] == []


def test_cli_db_migrate_on_aws(
    populated: tuple[Table, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from optiloop.cli.main import main

    table, before = populated
    aws = ["--backend", "aws", "--table", table.name]
    assert main(["db", "version", *aws]) == 0
    assert "item format version 2" in capsys.readouterr().out
    assert main(["db", "migrate", "--to", "1", *aws]) == 0
    assert "2 -> 1" in capsys.readouterr().out
    assert main(["db", "migrate", *aws]) == 0
    assert f"1 -> {LATEST_FORMAT}" in capsys.readouterr().out
    _check(table, before)


def _listed(table: Table, kind: str) -> list[str]:
    """Ids of project p1's documents of `kind` in listing-key order, as a listing Query reads them."""
    from optiloop.store.dynamodb.docs import scope_pk

    pk = scope_pk(kind, "p1")
    return [
        i["id"]["S"]
        for i in sorted((i for i in _items(table) if i["pk"]["S"] == pk), key=lambda i: i["sk"]["S"])
    ]


def test_4_moves_models_and_deployments_to_creation_order_and_back(
    populated: tuple[Table, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from optiloop.store.dynamodb import DynamoStore

    table, before = populated
    assert migrate_table(table, page_size=3) == 4
    created = (["p1_m1", "p1_m2"], ["p1_pr1:dev", "p1_pr2:dev"])
    assert (_listed(table, "model"), _listed(table, "deployment")) == created
    count = len(_items(table))
    assert migrate_table(table, 3, page_size=3) == 3
    assert (_listed(table, "model"), _listed(table, "deployment")) == (
        ["p1_m2", "p1_m1"],
        ["p1_pr2:dev", "p1_pr1:dev"],
    )
    store = DynamoStore(table.name, client=table.client)
    assert [d.sort for d in store.docs.list("model", "p1")] == ["alpha", "zeta"]  # what version 3 wrote
    assert len(_items(table)) == count  # moved, not copied: no listing item left behind
    _check(table, before)

    # a write in between the scan and the move is read again, never overwritten
    real = formats._move_listing
    raced: list[tuple[str, str]] = []

    def racing(t: Table, item: Any, sort: str, data: Any) -> bool:
        if not raced:
            raced.append((item["kind"]["S"], item["id"]["S"]))
            doc = store.docs.get(*raced[0])
            assert doc is not None
            store.docs.replace(replace(doc, data={**doc.data, "description": "edited"}), doc.rev)
        return real(t, item, sort, data)

    monkeypatch.setattr(formats, "_move_listing", racing)
    assert migrate_table(table) == 4
    assert (_listed(table, "model"), _listed(table, "deployment")) == created
    assert len(_items(table)) == count
    edited = store.docs.get(*raced[0])
    assert edited is not None and edited.data["description"] == "edited" and edited.sort.startswith("2025-")
