"""AuditRepo contract: append-only, hash-chained, gap-free seq, tamper-evident."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.audit.chain import GENESIS_HASH, canonical_json, record_hash
from optiloop.store.ports import AuditRepo, Store
from optiloop.store.records import AuditRecord

if TYPE_CHECKING:
    from conftest import StoreHarness

AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _append(store: Store, i: int = 0, **kw: Any) -> AuditRecord:
    args: dict[str, Any] = {
        "principal": "alice",
        "action": "project.create",
        "project_id": "p1",
        "target": f"t{i}",
        "details": {"i": i},
    }
    return store.audit.append(**{**args, **kw})


def _expected_hash(r: AuditRecord) -> str:
    return record_hash(
        r.prev_hash,
        seq=r.seq,
        id=r.id,
        at=r.at,
        principal=r.principal,
        action=r.action,
        project_id=r.project_id,
        target=r.target,
        details=r.details,
    )


def test_append_builds_the_chain(store: Store) -> None:
    details = {"z": 1, "a": {"nested": [1, 2.5, None, True]}, "ü": "✓"}
    r1 = _append(store, 1, details=details)
    r2 = _append(store, 2, project_id=None, target=None, details={})
    r3 = _append(store, 3)
    assert [r.seq for r in (r1, r2, r3)] == [1, 2, 3]
    assert r1.prev_hash == GENESIS_HASH
    assert r2.prev_hash == r1.hash and r3.prev_hash == r2.hash
    for r in (r1, r2, r3):
        assert re.fullmatch(r"aud_[0-9a-f]{16,}", r.id)
        assert AT.match(r.at)
        assert r.hash == _expected_hash(r)
    assert len({r1.id, r2.id, r3.id}) == 3
    assert r1.details == details


def test_hash_follows_the_documented_formula(store: Store) -> None:
    import hashlib

    r = _append(store, details={"b": 2, "a": "é"})
    body = {
        "seq": r.seq,
        "id": r.id,
        "at": r.at,
        "principal": r.principal,
        "action": r.action,
        "project_id": r.project_id,
        "target": r.target,
        "details": {"a": "é", "b": 2},
    }
    text = canonical_json(body)
    assert '"details":{"a":"é","b":2}' in text  # sorted, compact, not ASCII-escaped
    assert r.hash == hashlib.sha256((GENESIS_HASH + text).encode("utf-8")).hexdigest()


def test_list_round_trips_what_append_returned(store: Store) -> None:
    appended = [_append(store, i, details={"i": i, "tuple": (1, 2)}) for i in range(5)]
    assert store.audit.list() == appended
    assert appended[0].details == {"i": 0, "tuple": [1, 2]}  # returned as it will be read back


def test_list_filters_and_pages(store: Store) -> None:
    for i in range(10):
        _append(
            store, i, project_id="p1" if i % 2 else "p2", action="run.ingest" if i % 3 == 0 else "key.create"
        )
    everything = store.audit.list()
    assert [r.seq for r in everything] == list(range(1, 11))
    assert [r.seq for r in store.audit.list(project_id="p1")] == [2, 4, 6, 8, 10]
    assert [r.seq for r in store.audit.list(action="run.ingest")] == [1, 4, 7, 10]
    assert [r.seq for r in store.audit.list(project_id="p1", action="run.ingest")] == [4, 10]
    assert [r.seq for r in store.audit.list(after_seq=7)] == [8, 9, 10]
    assert [r.seq for r in store.audit.list(after_seq=2, limit=3)] == [3, 4, 5]
    assert [r.seq for r in store.audit.list(project_id="p2", after_seq=3, limit=2)] == [5, 7]
    assert store.audit.list(project_id="nope") == []


def test_list_limit_is_capped_at_1000(store: Store) -> None:
    for i in range(1005):
        _append(store, i)
    assert len(store.audit.list(limit=5000)) == 1000
    assert store.audit.list(limit=5000, after_seq=1000)[0].seq == 1001


def test_verify_empty_and_intact(store: Store) -> None:
    assert store.audit.verify() == (True, None)
    for i in range(20):
        _append(store, i)
    assert store.audit.verify() == (True, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("details", {"i": 999}),
        ("principal", "mallory"),
        ("action", "key.revoke"),
        ("project_id", "p9"),
        ("target", "other"),
        ("at", "2020-01-01T00:00:00.000Z"),
        ("id", "aud_forged"),
        ("hash", "f" * 64),
        ("prev_hash", "e" * 64),
    ],
)
def test_verify_finds_the_first_tampered_record(store_harness: StoreHarness, field: str, value: Any) -> None:
    store = store_harness.store
    for i in range(6):
        _append(store, i)
    store_harness.tamper_audit(4, field, value)
    assert store.audit.verify() == (False, 4)


def test_verify_detects_a_rewritten_record_at_its_successor(store_harness: StoreHarness) -> None:
    """An attacker who also recomputes the edited record's own hash still breaks the next link."""
    store = store_harness.store
    recs = [_append(store, i) for i in range(5)]
    forged = replace(recs[1], details={"i": "forged"})
    store_harness.tamper_audit(2, "details", forged.details)
    store_harness.tamper_audit(2, "hash", _expected_hash(forged))
    assert store.audit.verify() == (False, 3)


def test_verify_detects_a_deleted_record(store_harness: StoreHarness) -> None:
    store = store_harness.store
    for i in range(5):
        _append(store, i)
    store_harness.delete_audit(3)
    assert store.audit.verify() == (False, 4)


def test_verify_detects_a_deleted_first_record(store_harness: StoreHarness) -> None:
    store = store_harness.store
    for i in range(3):
        _append(store, i)
    store_harness.delete_audit(1)
    assert store.audit.verify() == (False, 2)


def test_concurrent_appends_never_fork_the_chain(store: Store) -> None:
    threads_n, per_thread = 8, 40
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                _append(store, i, principal=f"thread{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records: list[AuditRecord] = []
    after = 0
    while page := store.audit.list(after_seq=after, limit=1000):
        records.extend(page)
        after = page[-1].seq
    assert [r.seq for r in records] == list(range(1, threads_n * per_thread + 1))
    assert len({r.id for r in records}) == len(records)
    assert store.audit.verify() == (True, None)


def test_the_port_offers_no_way_to_rewrite_history(store: Store) -> None:
    public = {name for name in dir(AuditRepo) if not name.startswith("_")}
    assert public == {"append", "list", "verify"}
    assert not any(hasattr(store.audit, name) for name in ("update", "delete", "remove", "put"))
