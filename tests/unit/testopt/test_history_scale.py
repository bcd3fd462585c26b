"""Bounded history and suggest state (issue 8 §4), exercised with a small window.

The mechanism is the same at any size; a window of 64 tests makes a few hundred runs enough to
compact many times. What must hold: the retained part and the state's rows stay bounded, totals
and buckets still cover the whole history, suggest never repeats a test (compacted ones included),
a process that pages a long history in ends with the same learning state as one that watched it
grow, and nothing changes while the history fits in the window.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from optiloop.deps import Deps
from optiloop.store.factory import open_memory
from optiloop.testopt.bloom import ScalableBloom
from optiloop.testopt.history import HistoryCache, cache_for, window_size
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies.state import ProjectState, state_for, stream_seed
from optiloop.testopt.sut.driver import LocalLoop
from optiloop.testopt.window import Window

SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512.0},
        "cache": {"type": "boolean"},
    },
    "relations": ["if(region=='eu') then(payload_kb<=256.0)", "qps * payload_kb <= 1.0e6"],
}
WINDOW = 64


def outcome(p: dict) -> dict:
    """Coarse buckets from the params, a failure in one corner, a cost that varies."""
    buckets = [
        int(hashlib.sha256(repr((k, str(v)[:2])).encode()).hexdigest()[:6], 16) for k, v in sorted(p.items())
    ]
    fail = p["qps"] > 4000 and p["region"] == "apac"
    return {
        "status": "fail" if fail else "pass",
        "duration_ms": 5,
        "cost_cents": 1 + p["qps"] % 3,
        "failure_severity": 4 if fail else 0,
        "coverage_delta": {"buckets_hit": buckets},
    }


def drive(
    loop: LocalLoop, rounds: int, batch: int = 20, generator: str = "hybrid", skip_every: int = 5
) -> list:
    """Suggest and ingest `rounds` times (every `skip_every`-th batch stays pending); all params."""
    seen = []
    for i in range(rounds):
        out = loop.suggest(generator=generator, batch_size=batch, seed=i)
        seen += [t["params"] for t in out["tests"]]
        if i % skip_every != skip_every - 1:
            loop.ingest([t["id"] for t in out["tests"]], [outcome(t["params"]) for t in out["tests"]])
    return seen


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", str(WINDOW))
    return WINDOW


def test_window_indexes_by_absolute_position() -> None:
    w: Window[int] = Window()
    w.extend(range(10))
    assert w.drop_before(4) == [0, 1, 2, 3]
    assert (len(w), w.base, w.retained) == (10, 4, 6)
    assert w[4] == 4 and w[-1] == 9 and w[3:6] == [4, 5] and w[-3:] == [7, 8, 9] and w[8:] == [8, 9]
    with pytest.raises(IndexError):
        _ = w[3]
    assert list(w) == [4, 5, 6, 7, 8, 9]
    assert w.drop_before(2) == [] and w.base == 4  # never moves back


def test_window_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", "12")
    with pytest.raises(ValueError, match="OPTILOOP_HISTORY_WINDOW must be at least 64"):
        window_size()
    monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", "lots")
    with pytest.raises(ValueError, match="whole number"):
        window_size()
    monkeypatch.delenv("OPTILOOP_HISTORY_WINDOW")
    assert window_size() == 5_000


def test_bloom_has_no_false_negatives_few_false_positives_and_round_trips() -> None:
    b = ScalableBloom()
    keys = [f"k{i}".encode() for i in range(40_000)]  # past the first layer's capacity: 2 layers
    b.add(keys[:25_000])
    b.add(keys[25_000:])
    assert len(b.layers) >= 2 and len(b) == 40_000
    assert b.contains(keys).all()
    others = [f"other{i}".encode() for i in range(20_000)]
    assert b.contains(others).mean() < 0.004
    again = ScalableBloom.from_arrays(b.to_arrays())
    assert again.contains(keys).all()
    assert (again.contains(others) == b.contains(others)).all()
    bad = b.to_arrays()
    bad["bloom_0"] = bad["bloom_0"][:-1]
    with pytest.raises(ValueError, match="does not match"):
        ScalableBloom.from_arrays(bad)


def test_history_and_state_stay_bounded_and_never_repeat(small_window: int) -> None:
    loop = LocalLoop(SPACE, name="scale")
    params = drive(loop, rounds=40)
    keys = [json.dumps(p, sort_keys=True) for p in params]
    assert len(set(keys)) == len(keys) == 800  # no repeats, compacted tests included
    store, pid = loop.deps.store, loop.project_id
    h = cache_for(store).get(pid)
    # the newest batch, added as it is written, is compacted by the next refresh
    assert len(h.tests) == 800 and h.tests.retained <= 1.5 * small_window + 20
    assert len(h.run_order) == store.runs.max_seq(pid) == 640 and h.run_order.retained <= 1.5 * small_window
    assert h.cost_cents == pytest.approx(store.runs.totals(pid)["cost_cents"])
    every = {b for r in store.runs.list_since(pid) for b in r.buckets}
    assert h.buckets_seen == every
    assert len(h.pending) == sum(1 for t in h.tests if t.id not in h.runs)
    st = state_for(id(store), pid, space_for(store, pid), h)
    archive = small_window // compaction.ARCHIVE_SHARE
    assert len(st.ids) <= 1.5 * small_window + archive + len(st.corpus)
    assert len(st.U) == len(st.E) == len(st.ids) == len(st.pos) == len(st.ran) == len(st.feasible)
    assert st.n_tests == 800 and not st.complete
    assert st.n_fit == st.n_runs == 640  # every run's test was at hand (late ones via the side store)


def test_a_cold_process_pages_in_to_the_same_learning_state(small_window: int) -> None:
    """Warm: the state watched the history grow. Cold: a new process reads it page by page."""
    loop = LocalLoop(SPACE, name="scale")
    drive(loop, rounds=30, skip_every=4)
    store, pid = loop.deps.store, loop.project_id
    space = space_for(store, pid)
    warm = state_for(id(store), pid, space, cache_for(store).get(pid))  # the one suggest kept up to date

    cold_cache = HistoryCache(store)  # a new process: nothing cached
    cold_h = cold_cache.held(pid)
    cold = ProjectState(space, stream_seed=stream_seed(space), window=small_window)
    pages = []
    cold_cache.refresh(cold_h, store.history_heads(pid), on_page=lambda hh: (pages.append(1), cold.sync(hh)))
    assert len(pages) > 3  # read in pages of `window` rows, each folded in before it was compacted
    assert (cold.n_tests, cold.n_runs, cold.n_fit, cold.n_folded) == (
        warm.n_tests,
        warm.n_runs,
        warm.n_fit,
        warm.n_folded,
    )
    assert cold.op_counts == warm.op_counts and cold.fail_counts == warm.fail_counts
    assert np.array_equal(cold.counts[: len(warm.counts)], warm.counts[: len(cold.counts)])
    assert cold.rewards(500)[1].tolist() == warm.rewards(500)[1].tolist()
    assert np.array_equal(cold.pairs.covered, warm.pairs.covered)
    # the retained rows (window, archive, corpus) are a function of the history, not of the paging
    assert set(cold.ids) == set(warm.ids)
    for t in ("cov", "fail", "cost"):
        assert cold.base[t].n_obs == warm.base[t].n_obs
        np.testing.assert_allclose(cold.base[t].A_, warm.base[t].A_, rtol=1e-9, atol=1e-9)  # type: ignore[attr-defined]


def test_nothing_changes_while_the_history_fits_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same seeds give the same tests with the default window and with one just big enough."""
    batches = []
    for window in ("5000", "256"):
        monkeypatch.setenv("OPTILOOP_HISTORY_WINDOW", window)
        loop = LocalLoop(SPACE, name="scale")
        batches.append(drive(loop, rounds=6, batch=25))
    assert batches[0] == batches[1]


def counting_ids() -> Callable[[str], str]:
    n = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(n):08d}"


def test_seeded_suggestions_reproduce_past_the_window(small_window: int) -> None:
    """Same history (ids included: the archive is sampled by test id), same seeds: same tests."""
    loops = []
    for _ in range(2):
        store, blobs = open_memory()
        loops.append(LocalLoop(SPACE, name="p", deps=Deps(store=store, blobs=blobs, ids=counting_ids())))
    pa, pb = drive(loops[0], rounds=14), drive(loops[1], rounds=14)
    assert len(pa) == 280 and pa == pb


def test_late_state_asks_the_history_filter(small_window: int) -> None:
    """A state started on a compacted history (new space version, or evicted) still never repeats."""
    loop = LocalLoop(SPACE, name="late")
    params = drive(loop, rounds=20)
    store, pid = loop.deps.store, loop.project_id
    h = HistoryCache(store).get(pid)
    assert h.tests.base > 0
    space = space_for(store, pid)
    st = ProjectState(space, stream_seed=stream_seed(space), window=small_window)
    compaction.start_late(st, h)
    st.sync(h)
    assert st.late and st.n_tests == len(h.tests)
    assert st.op_counts == h.dropped_ops + Counter(t.operator for t in h.tests)
    old = space.snap(space.encode_dicts(params[:50]))  # long compacted
    assert compaction.repeats(st, h, old).all()


def test_listing_tests_pages_older_ones_from_the_store(
    small_window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from optiloop.testopt import queries

    loop = LocalLoop(SPACE, name="list")
    drive(loop, rounds=15)  # 300 tests, every fifth batch pending
    deps, pid = loop.deps, loop.project_id
    seqs, cursor = [], 0
    while cursor is not None:
        page = queries.list_tests(deps, pid, after_seq=cursor, limit=70)
        seqs += [t["seq"] for t in page["items"]]
        cursor = page["next_after_seq"]
    assert seqs == list(range(1, 301))  # the old ones from the store, the window from memory
    pending = queries.list_tests(deps, pid, status="pending", limit=500)["items"]
    assert [t["seq"] for t in pending] == [s for s in range(1, 301) if (s - 1) // 20 % 5 == 4]
    # a filter that finds nothing among many old tests stops at the scan budget with a cursor
    monkeypatch.setattr(queries, "SCAN_LIMIT", 30)
    monkeypatch.setattr(queries, "PAGE", 10)
    first = queries.list_tests(deps, pid, status="pending", limit=5)
    assert first["items"] == [] and first["next_after_seq"] == 30
    again = queries.list_tests(deps, pid, status="pending", after_seq=60, limit=5)
    assert [t["seq"] for t in again["items"]] == [81, 82, 83, 84, 85]


def test_the_coverage_report_totals_cover_the_whole_history(small_window: int) -> None:
    from optiloop.testopt.coverage.report import coverage_report

    loop = LocalLoop(SPACE, name="report")
    drive(loop, rounds=15)
    deps, pid = loop.deps, loop.project_id
    report = coverage_report(deps, pid)
    totals = deps.store.runs.totals(pid)
    assert report["tests_suggested"] == 300 and report["tests_run"] == totals["runs"] == 240
    assert report["spend_cents"] == pytest.approx(totals["cost_cents"])
    assert report["unique_buckets"] == len({b for r in deps.store.runs.list_since(pid) for b in r.buckets})
