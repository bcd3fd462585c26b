"""AuditRepo contract: append-only, one hash chain per shard (gap-free seq each), signed digests over
every shard head, tamper-evident down to the record, head or digest that was changed."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.audit.chain import GENESIS_HASH, canonical_json, record_hash
from optiloop.audit.digest import seal
from optiloop.audit.shards import encode_cursor, ord_of
from optiloop.audit.signing import Ed25519FileSigner, HmacFileSigner
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


SIGNER = Ed25519FileSigner()


def test_append_builds_one_chain_per_shard(store: Store) -> None:
    details = {"z": 1, "a": {"nested": [1, 2.5, None, True]}, "ü": "✓"}
    r1 = _append(store, 1, details=details)
    r2 = _append(store, 2, project_id=None, target=None, details={})
    r3 = _append(store, 3)
    r4 = _append(store, 4, project_id="p2")
    assert [(r.shard, r.seq) for r in (r1, r2, r3, r4)] == [
        ("p/p1", 1),
        ("tenant", 1),
        ("p/p1", 2),
        ("p/p2", 1),
    ]
    assert r1.prev_hash == r2.prev_hash == r4.prev_hash == GENESIS_HASH
    assert r3.prev_hash == r1.hash
    for r in (r1, r2, r3, r4):
        assert re.fullmatch(r"aud_[0-9a-f]{16,}", r.id)
        assert AT.match(r.at)
        assert r.hash == _expected_hash(r)
    assert len({r1.id, r2.id, r3.id, r4.id}) == 4
    assert r1.details == details
    heads = {h.shard: (h.seq, h.hash) for h in store.audit.heads()}
    assert heads == {"p/p1": (2, r3.hash), "tenant": (1, r2.hash), "p/p2": (1, r4.hash)}
    assert store.audit.anchor().seq == 0 and store.audit.anchor().hash == GENESIS_HASH


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
    assert store.audit.list(project_id="p1") == appended
    assert appended[0].details == {"i": 0, "tuple": [1, 2]}  # returned as it will be read back


def _all_pages(store: Store, limit: int, **kw: Any) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    after = None
    while True:
        page = store.audit.list(limit=limit, after=after, **kw)
        out.extend(page)
        if len(page) < limit:
            return out
        after = encode_cursor(ord_of(page[-1].shard, page[-1].seq, page[-1].at))


def test_list_filters_and_pages(store: Store) -> None:
    recs = [
        _append(
            store, i, project_id="p1" if i % 2 else "p2", action="run.ingest" if i % 3 == 0 else "key.create"
        )
        for i in range(10)
    ]
    everything = store.audit.list()
    assert everything == sorted(recs, key=lambda r: ord_of(r.shard, r.seq, r.at))  # (time, shard, seq)
    assert [r.seq for r in store.audit.list(project_id="p1")] == [1, 2, 3, 4, 5]
    assert [r.details["i"] for r in store.audit.list(project_id="p1")] == [1, 3, 5, 7, 9]
    assert sorted(r.details["i"] for r in store.audit.list(action="run.ingest")) == [0, 3, 6, 9]
    assert [r.details["i"] for r in store.audit.list(project_id="p1", action="run.ingest")] == [3, 9]
    assert [r.seq for r in store.audit.list(project_id="p2", after_seq=3)] == [4, 5]
    assert [r.seq for r in store.audit.list(project_id="p2", after_seq=1, limit=2)] == [2, 3]
    assert _all_pages(store, 3) == everything
    assert _all_pages(store, 1, action="key.create") == store.audit.list(action="key.create")
    assert store.audit.list(project_id="nope") == []


def test_tenant_listing_orders_shards_by_time_then_shard_then_seq(store: Store) -> None:
    recs = [_append(store, i, project_id=f"p{i % 3}" if i % 4 else None) for i in range(12)]
    listed = store.audit.list()
    assert sorted(recs, key=lambda r: ord_of(r.shard, r.seq, r.at)) == listed


def test_list_limit_is_capped_at_1000(store: Store) -> None:
    # 45 appends per transaction (DynamoDB's limit is 99 writes): 1005 one-record commits under moto
    # took most of a minute on a loaded machine; what is checked is the listing, not the appends
    for start in range(0, 1005, 45):
        with store.transaction():
            for i in range(start, min(start + 45, 1005)):
                _append(store, i)
    assert len(store.audit.list(limit=5000)) == 1000
    assert store.audit.list(project_id="p1", limit=5000, after_seq=1000)[0].seq == 1001


def test_verify_empty_and_intact(store: Store) -> None:
    assert tuple(store.audit.verify(SIGNER)) == (True, None)
    for i in range(20):
        _append(store, i, project_id=f"p{i % 4}" if i % 5 else None)
    assert seal(store.audit, SIGNER) is not None
    assert seal(store.audit, SIGNER) is None  # nothing moved: no new digest
    _append(store, 99)
    assert seal(store.audit, SIGNER)["n"] == 2  # type: ignore[index]
    v = store.audit.verify(SIGNER)
    assert (v.ok, v.problem, v.records, v.shards, v.digests) == (True, None, 21, 5, 2)


def test_digests_chain_and_commit_every_head(store: Store) -> None:
    _append(store, 1)
    d1 = seal(store.audit, SIGNER)
    _append(store, 2, project_id="p2")
    d2 = seal(store.audit, SIGNER)
    assert d1 is not None and d2 is not None
    assert d1["prev"] == GENESIS_HASH and d2["prev"] == d1["hash"]
    assert [h[0] for h in d2["heads"]] == ["p/p1", "p/p2"]
    assert list(store.audit.digests()) == [d1, d2] and store.audit.latest_digest() == d2


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
        _append(store, i, project_id="p2")
    store_harness.tamper_audit(4, field, value)
    v = store.audit.verify()
    assert tuple(v) == (False, 4)
    assert v.problem is not None and (v.problem["kind"], v.problem["shard"]) == ("record", "p/p1")


def test_verify_detects_a_rewritten_record_at_its_successor(store_harness: StoreHarness) -> None:
    """An attacker who also recomputes the edited record's own hash still breaks the next link."""
    store = store_harness.store
    recs = [_append(store, i) for i in range(5)]
    forged = replace(recs[1], details={"i": "forged"})
    store_harness.tamper_audit(2, "details", forged.details)
    store_harness.tamper_audit(2, "hash", _expected_hash(forged))
    assert tuple(store.audit.verify()) == (False, 3)


def test_verify_detects_a_deleted_record(store_harness: StoreHarness) -> None:
    store = store_harness.store
    for i in range(5):
        _append(store, i)
    store_harness.delete_audit(3)
    assert tuple(store.audit.verify()) == (False, 4)


def test_verify_detects_a_deleted_first_record(store_harness: StoreHarness) -> None:
    store = store_harness.store
    for i in range(3):
        _append(store, i, project_id=None)
    store_harness.delete_audit(1, shard="tenant")
    v = store.audit.verify()
    assert tuple(v) == (False, 2) and v.problem["shard"] == "tenant"  # type: ignore[index]


def test_verify_names_a_tampered_shard_head(store_harness: StoreHarness) -> None:
    store = store_harness.store
    recs = [_append(store, i) for i in range(4)]
    store_harness.tamper_head("p/p1", 3, recs[2].hash)
    v = store.audit.verify()
    assert not v.ok and v.problem is not None
    assert (v.problem["kind"], v.problem["shard"], v.problem["seq"]) == ("head", "p/p1", 4)


def test_verify_detects_a_rolled_back_shard_through_the_digest(store_harness: StoreHarness) -> None:
    """Deleting the newest record and moving the head back leaves a consistent chain; the digest
    that committed the newer head is what catches it."""
    store = store_harness.store
    recs = [_append(store, i) for i in range(4)]
    seal(store.audit, SIGNER)
    store_harness.delete_audit(4)
    store_harness.tamper_head("p/p1", 3, recs[2].hash)
    v = store.audit.verify(SIGNER)
    assert not v.ok and v.problem is not None
    assert (v.problem["kind"], v.problem["shard"], v.problem["digest"]) == ("head", "p/p1", 1)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("root", "0" * 64, "hash does not match"),
        ("heads", [["p/p1", 1, "0" * 64]], "hash does not match"),
        ("prev", "1" * 64, "prev is not"),
        ("n", 7, "expected digest 2"),
        ("sig", "AAAA", "signature does not verify"),
    ],
)
def test_verify_names_a_tampered_digest(
    store_harness: StoreHarness, field: str, value: Any, reason: str
) -> None:
    store = store_harness.store
    for i in range(3):
        _append(store, i)
        seal(store.audit, SIGNER)
    store_harness.tamper_digest(2, field, value)
    v = store.audit.verify(SIGNER)
    assert not v.ok and v.problem is not None and v.problem["kind"] == "digest", v.problem
    assert v.problem["digest"] == (7 if field == "n" else 2) and reason in v.problem["reason"]


def test_a_digest_signed_by_another_key_is_refused(store: Store) -> None:
    _append(store)
    seal(store.audit, HmacFileSigner())
    v = store.audit.verify(SIGNER)
    assert not v.ok and v.problem is not None and "signature" in v.problem["reason"]


def test_events_are_sealed_in_batches_into_the_trail(store: Store) -> None:
    from optiloop.audit.events import SEALED_ACTION, events_root

    ids = [
        store.audit.record_event(
            principal="svc", action="decision.served", project_id="p1", target="exp1", details={"arm": i % 3}
        )
        for i in range(25)
    ]
    assert len(set(ids)) == 25
    assert store.audit.flush_events() == 25
    assert store.audit.flush_events() == 0
    (sealed,) = store.audit.list(project_id="p1", action=SEALED_ACTION)
    assert sealed.details["count"] == 25 and [e["id"] for e in sealed.details["events"]] == ids
    assert sealed.details["root"] == events_root(sealed.details["events"])
    assert sealed.details["actions"] == {"decision.served": 25}
    assert tuple(store.audit.verify()) == (True, None)


def test_concurrent_appends_never_fork_a_chain(store: Store) -> None:
    threads_n, per_thread = 8, 30
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                # half the threads share project p1, the others each have their own
                _append(store, i, principal=f"thread{n}", project_id="p1" if n % 2 else f"own{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shared = store.audit.list(project_id="p1", limit=1000)
    assert [r.seq for r in shared] == list(range(1, threads_n // 2 * per_thread + 1))
    for n in range(0, threads_n, 2):
        assert [r.seq for r in store.audit.list(project_id=f"own{n}")] == list(range(1, per_thread + 1))
    assert len(_all_pages(store, 1000)) == threads_n * per_thread
    assert tuple(store.audit.verify()) == (True, None)


def test_the_port_offers_no_way_to_rewrite_history(store: Store) -> None:
    public = {name for name in dir(AuditRepo) if not name.startswith("_")}
    assert public == {
        "append", "list", "verify", "anchor", "heads", "shards", "rows", "add_digest", "digests",
        "latest_digest", "record_event", "flush_events", "events",
    }  # fmt: skip
    assert not any(hasattr(store.audit, name) for name in ("update", "delete", "remove", "put"))
