"""The history's cold tier (testopt/history_snapshot.py): a new process starts from one blob.

Checked with a window of 64 tests: the snapshot is written as the history compacts, a new process
that starts from it holds what one that paged everything in holds, and a snapshot that is torn,
corrupt, for another project or ahead of the store is ignored, never trusted; a blob store that
refuses writes costs the snapshot, not the request.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from optiloop.deps import Deps
from optiloop.store.factory import open_memory
from optiloop.store.ports import BlobStore
from optiloop.testopt import history_snapshot as hs
from optiloop.testopt.history import History, HistoryCache, cache_for, canonical
from optiloop.testopt.sut.driver import LocalLoop

SPACE = {
    "params": {
        "n": {"type": "integer", "min": 1, "max": 1000},
        "mode": {"type": "string", "enum": ["a", "b", "c"]},
        "x": {"type": "number", "min": 0.0, "max": 1.0},
    },
    "relations": ["n * x <= 900"],
}


def outcome(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "fail" if p["n"] > 950 else "pass",
        "failure_severity": 3 if p["n"] > 950 else 0,
        "cost_cents": 1 + p["n"] % 2,
        "coverage_delta": {"buckets_hit": [p["n"] // 100, f"mode:{p['mode']}", 20 + int(p["x"] * 5)]},
    }


def drive(loop: LocalLoop, rounds: int) -> list[dict[str, Any]]:
    params = []
    for i in range(rounds):
        out = loop.suggest(batch_size=20, seed=i)
        params += [t["params"] for t in out["tests"]]
        if i % 5 != 4:
            loop.ingest([t["id"] for t in out["tests"]], [outcome(t["params"]) for t in out["tests"]])
    return params


@pytest.fixture
def grown(monkeypatch: pytest.MonkeyPatch) -> tuple[LocalLoop, list[dict[str, Any]]]:
    monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", "64")
    loop = LocalLoop(SPACE, name="snap")
    return loop, drive(loop, 30)


def paged(loop: LocalLoop) -> History:
    """What a process without a cold tier holds after paging the whole history in."""
    return HistoryCache(loop.deps.store).get(loop.project_id)


def same_aggregates(a: History, b: History) -> None:
    assert (len(a.tests), len(a.run_order), a.tests_seq, a.runs_seq) == (
        len(b.tests),
        len(b.run_order),
        b.tests_seq,
        b.runs_seq,
    )
    assert a.buckets_seen == b.buckets_seen and a.cost_cents == pytest.approx(b.cost_cents)
    ops = a.dropped_ops + Counter(t.operator for t in a.tests)
    assert ops == b.dropped_ops + Counter(t.operator for t in b.tests)
    assert [t.id for t in a.tests][-64:] == [t.id for t in b.tests][-64:]
    assert {t.id for t in a.pending} == {t.id for t in b.pending if t.id in a.test_index}


def test_written_as_the_history_compacts_and_restores_what_paging_would(grown: Any) -> None:
    loop, params = grown
    store, blobs, pid = loop.deps.store, loop.deps.blobs, loop.project_id
    assert blobs.get(hs.key(pid)) is not None  # the suggest path wrote it (600 tests, window 64)
    reads: list[int] = []
    real = store.tests.list_since

    def counted(*a: Any, **kw: Any) -> Any:
        got = real(*a, **kw)
        reads.append(len(got))
        return got

    store.tests.list_since = counted  # type: ignore[method-assign]
    try:
        cold = HistoryCache(store, blobs=blobs).get(pid)  # a new process with the cold tier
    finally:
        del store.tests.list_since
    assert sum(reads) <= 3 * 64, reads  # the window and the tail, not the 600 tests
    same_aggregates(cold, paged(loop))
    assert cold.seen.contains([canonical(p).encode() for p in params]).all()


def test_a_new_process_suggests_from_the_snapshot_without_repeats(grown: Any) -> None:
    loop, params = grown
    from optiloop.testopt import history as history_module
    from optiloop.testopt.strategies import state as state_module

    history_module._caches.clear()  # a restarted process: nothing cached
    state_module._states.clear()
    fresh = drive(loop, 5)
    h = cache_for(loop.deps.store).get(loop.project_id)
    assert h.snapshot_at > 0  # started from the snapshot, not from the first test
    keys = {json.dumps(p, sort_keys=True) for p in params}
    assert not keys & {json.dumps(p, sort_keys=True) for p in fresh}
    assert len(fresh) == 100


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="torn"),
        pytest.param(lambda b: b[:-10] + bytes(10), id="corrupt"),
        pytest.param(lambda b: b"garbage", id="not-a-snapshot"),
    ],
)
def test_a_damaged_snapshot_is_ignored(grown: Any, spoil: Any) -> None:
    loop, _ = grown
    store, blobs, pid = loop.deps.store, loop.deps.blobs, loop.project_id
    blobs.put(hs.key(pid), spoil(blobs.get(hs.key(pid))))
    with pytest.raises(ValueError):
        hs.decode(blobs.get(hs.key(pid)) or b"", pid)
    cold = HistoryCache(store, blobs=blobs).get(pid)  # pages everything in instead
    same_aggregates(cold, paged(loop))


def test_a_snapshot_of_another_project_or_ahead_of_the_store_is_ignored(grown: Any) -> None:
    loop, _ = grown
    store, blobs, pid = loop.deps.store, loop.deps.blobs, loop.project_id
    data = blobs.get(hs.key(pid))
    assert data is not None
    with pytest.raises(ValueError, match="another project"):
        hs.decode(data, "prj_other")
    h = paged(loop)
    h.tests_seq += 1000  # as if the store were restored from an older backup than the snapshot
    blobs.put(hs.key(pid), hs.encode(h))
    cold = HistoryCache(store, blobs=blobs).get(pid)
    same_aggregates(cold, paged(loop))


class RefusingBlobs(BlobStore):
    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner

    def put(self, key: str, data: bytes) -> None:
        raise OSError("disk full")

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def list(self, prefix: str = "") -> list[str]:
        return self.inner.list(prefix)


def test_a_refused_write_costs_the_snapshot_not_the_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", "64")
    store, blobs = open_memory()
    loop = LocalLoop(SPACE, name="full", deps=Deps(store=store, blobs=RefusingBlobs(blobs)))
    assert len(drive(loop, 12)) == 240
    assert blobs.get(hs.key(loop.project_id)) is None
    assert "not written: disk full" in caplog.text
