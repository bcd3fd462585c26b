"""A project's tests and runs, held in memory and refreshed incrementally, newest `window` of them.

Suggest must answer in milliseconds with thousands of runs behind it, so it cannot re-read and
re-decode the whole history per call. Both repos hand out rows by a per-project monotonic `seq`;
a cached `History` asks only for rows newer than the ones it holds, up to the seqs one read of the
project's heads returned (`Store.history_heads`: on DynamoDB one BatchGetItem for the project, both
counters and the run totals). The cache is per process (one uvicorn worker, or one warm Lambda);
correctness never depends on it being warm.

Memory is bounded, not proportional to the history (projects reach 10K-10M tests): `tests` and
`run_order` are `Window`s that keep the newest `window` items (compacted in amortised steps) and
still index by absolute position, and what must cover the whole history is kept as sufficient
statistics — the set of buckets ever hit (for new-bucket counts at ingest), the spend, the
operators of compacted tests (the QMC stream's position) and a Bloom filter of every test's params
(suggest never repeats a test, compacted ones included). A cold
process streams the history in pages of `window` rows, handing each page to `on_page` (the
suggest state folds it in) before the page is compacted away, so the peak stays bounded too.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optiloop.store.ports import BlobStore, HistoryHeads, Store
from optiloop.store.records import Run, TestCase
from optiloop.testopt.bloom import ScalableBloom
from optiloop.testopt.window import Window

WINDOW_ENV = "OPTILOOP_HISTORY_WINDOW"
DEFAULT_WINDOW = 5_000
MIN_WINDOW = 64


def window_size() -> int:
    """Tests (and runs) a project keeps in memory: OPTILOOP_HISTORY_WINDOW, default 5,000."""
    raw = os.environ.get(WINDOW_ENV, "").strip()
    if not raw:
        return DEFAULT_WINDOW
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{WINDOW_ENV} must be a whole number, got {raw!r}") from None
    if value < MIN_WINDOW:
        raise ValueError(f"{WINDOW_ENV} must be at least {MIN_WINDOW}, got {value}")
    return value


@dataclass
class History:
    project_id: str
    window: int = field(default_factory=window_size)
    tests: Window[TestCase] = field(default_factory=Window)
    test_index: dict[str, int] = field(default_factory=dict)  # absolute position of each retained test
    runs: dict[str, Run] = field(default_factory=dict)  # by test id: runs of retained tests and run ids
    run_order: Window[str] = field(default_factory=Window)  # test ids in ingestion order
    buckets_seen: set[int | str] = field(default_factory=set)  # every bucket ever hit (bounded by the SUT)
    tests_seq: int = 0
    runs_seq: int = 0
    cost_cents: float = 0.0  # spent by every run read so far (= RunRepo.totals, without a scan)
    dropped_ops: Counter[str] = field(default_factory=Counter)  # operators of the compacted tests
    seen: ScalableBloom = field(default_factory=ScalableBloom)  # canonical params of every test
    snapshot_at: int = 0  # tests the newest cold-tier snapshot (testopt/history_snapshot.py) covers
    # per-params outcome counts, folded in lazily by optiloop.testopt.flaky (never on suggest's path)
    flaky_counts: Any = None
    # held while rows are read in: a cold history of one project pages in for a while, and the
    # cache's own lock would stop every other project's refresh for that long
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def pending(self) -> list[TestCase]:
        """Retained tests without a run (a test older than the window is no longer listed)."""
        return [t for t in self.tests if t.id not in self.runs]

    def _add_tests(self, tests: list[TestCase]) -> None:
        self.seen.add([canonical(t.params).encode() for t in tests])
        for t in tests:
            self.test_index[t.id] = len(self.tests)
            self.tests.append(t)
            self.tests_seq = max(self.tests_seq, t.seq)

    def _add_runs(self, runs: list[Run]) -> None:
        for r in runs:
            if r.test_id not in self.runs:
                self.run_order.append(r.test_id)
            self.runs[r.test_id] = r
            self.buckets_seen.update(r.buckets)
            self.cost_cents += float(r.cost_cents)
            self.runs_seq = max(self.runs_seq, r.seq)

    def add_own_tests(self, tests: list[TestCase]) -> None:
        """Tests this process just committed, when they directly follow what it holds: the next
        refresh then need not read them back (one Query fewer per suggest on DynamoDB)."""
        if tests and tests[0].seq == self.tests_seq + 1:
            self._add_tests(tests)  # compacted by the next refresh, after the suggest state has seen them

    def compact(self) -> None:
        """Keep the newest `window` tests and runs once 1.5 x `window` are held (amortised)."""
        slack = self.window // 2
        if self.tests.retained > self.window + slack:
            for t in self.tests.drop_before(len(self.tests) - self.window):
                del self.test_index[t.id]
                self.dropped_ops[t.operator] += 1
                if t.id in self.runs and not self._run_retained(t.id):
                    del self.runs[t.id]
        if self.run_order.retained > self.window + slack:
            for tid in self.run_order.drop_before(len(self.run_order) - self.window):
                if tid not in self.test_index:
                    self.runs.pop(tid, None)

    def _run_retained(self, test_id: str) -> bool:
        """Whether the run of a test is among the retained runs (its seq is at least the oldest's)."""
        if not self.run_order.retained:
            return False
        oldest = self.runs.get(self.run_order[self.run_order.base])
        run = self.runs.get(test_id)
        return run is not None and oldest is not None and run.seq >= oldest.seq


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


PageHook = Callable[[History], None]


SNAPSHOT_FROM = 4  # a cold history this many windows behind the store starts from its snapshot


class HistoryCache:
    """LRU of project histories for one store; with `blobs`, their cold tier (history_snapshot.py):
    a history more than SNAPSHOT_FROM windows long starts from its snapshot instead of paging in
    from the first test, and a snapshot is written each time `window` more tests were compacted."""

    def __init__(self, store: Store, max_projects: int = 64, blobs: BlobStore | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.max_projects = max_projects
        self._items: OrderedDict[str, History] = OrderedDict()
        self._lock = threading.Lock()

    def held(self, project_id: str) -> History:
        """The cached history as it is (refresh it before use)."""
        with self._lock:
            h = self._items.pop(project_id, None) or History(project_id)
            self._items[project_id] = h
            while len(self._items) > self.max_projects:
                self._items.popitem(last=False)
        return h

    def get(self, project_id: str) -> History:
        h = self.held(project_id)
        self.refresh(h)
        return h

    def add_own_tests(self, project_id: str, tests: list[TestCase]) -> None:
        """`History.add_own_tests` under the lock refreshes take (an ingest may be refreshing it)."""
        with self._lock:
            h = self._items.get(project_id)
        if h is not None:
            with h.lock:
                h.add_own_tests(tests)

    def refresh(self, h: History, heads: HistoryHeads | None = None, on_page: PageHook | None = None) -> None:
        """Read what is new up to `heads` (read now when not given), `window` rows at a time."""
        with h.lock:
            store = self.store
            if heads is None:
                heads = store.history_heads(h.project_id)
            if self.blobs is not None and not h.tests_seq and not h.runs_seq:
                self._from_snapshot(h, heads)
            page = h.window
            while h.tests_seq < heads.tests_seq or h.runs_seq < heads.runs_seq:
                t_top = min(heads.tests_seq, h.tests_seq + page)
                r_top = min(heads.runs_seq, h.runs_seq + page)
                if h.tests_seq < t_top:
                    got = store.tests.list_since(h.project_id, h.tests_seq, until_seq=t_top)
                    h._add_tests(got)
                    h.tests_seq = max(h.tests_seq, t_top)
                if h.runs_seq < r_top:
                    runs = store.runs.list_since(h.project_id, h.runs_seq, until_seq=r_top)
                    if h.tests_seq < heads.tests_seq:
                        runs, r_top = _before_unread_tests(h, runs, r_top)
                    h._add_runs(runs)
                    h.runs_seq = max(h.runs_seq, r_top)
                if on_page is not None:
                    on_page(h)
                h.compact()
                if self.blobs is not None and h.tests.base and len(h.tests) - h.snapshot_at >= h.window:
                    from optiloop.testopt import history_snapshot

                    if history_snapshot.save(self.blobs, h):
                        h.snapshot_at = len(h.tests)

    def _from_snapshot(self, h: History, heads: HistoryHeads) -> None:
        if heads.tests_seq + heads.runs_seq <= SNAPSHOT_FROM * h.window or self.blobs is None:
            return
        from optiloop.testopt import history_snapshot

        snap = history_snapshot.load(self.blobs, h.project_id)
        if snap is None:
            return
        if snap.tests_seq > heads.tests_seq or snap.runs_seq > heads.runs_seq:
            history_snapshot.log.warning(
                "history snapshot of project %s ignored: ahead of the store", h.project_id
            )
            return
        history_snapshot.restore(h, snap, self.store)


def _before_unread_tests(h: History, runs: list[Run], top: int) -> tuple[list[Run], int]:
    """While tests are still being paged in, runs wait for their tests: a page of runs stops before
    the first whose test has not been read (runs trail their tests, but by how much is not known
    from the seqs). Whoever folds the pages in then always meets a test before its run."""
    for i, r in enumerate(runs):
        if r.test_id not in h.test_index:
            return runs[:i], (runs[i - 1].seq if i else h.runs_seq)
    return runs, top


_caches: dict[int, HistoryCache] = {}


def cache_for(store: Store, blobs: BlobStore | None = None) -> HistoryCache:
    """The process's cache for `store`; `blobs` (the deployment's blob store) turns its cold tier on."""
    cache = _caches.get(id(store))
    if cache is None or cache.store is not store:
        cache = _caches[id(store)] = HistoryCache(store)
    if blobs is not None:
        cache.blobs = blobs
    return cache


def history_for(store: Store, project_id: str, blobs: BlobStore | None = None) -> History:
    """The (refreshed) history of a project, through the per-store cache."""
    return cache_for(store, blobs).get(project_id)
