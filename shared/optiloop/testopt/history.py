"""A project's tests and runs, held in memory and refreshed incrementally.

Suggest must answer in milliseconds with thousands of runs behind it, so it cannot re-read and
re-decode the whole history per call. Both repos hand out rows by a per-project monotonic `seq`;
a cached `History` asks only for rows newer than the ones it holds. The cache is per process
(one uvicorn worker, or one warm Lambda); correctness never depends on it being warm.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from optiloop.store.ports import Store
from optiloop.store.records import Run, TestCase


@dataclass
class History:
    project_id: str
    tests: list[TestCase] = field(default_factory=list)
    test_index: dict[str, int] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)  # by test id
    run_order: list[str] = field(default_factory=list)  # test ids in ingestion order
    buckets_seen: set[int | str] = field(default_factory=set)
    tests_seq: int = 0
    runs_seq: int = 0
    # per-params outcome counts, folded in lazily by optiloop.testopt.flaky (never on suggest's path)
    flaky_counts: Any = None

    @property
    def pending(self) -> list[TestCase]:
        return [t for t in self.tests if t.id not in self.runs]

    def _add_tests(self, tests: list[TestCase]) -> None:
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
            self.runs_seq = max(self.runs_seq, r.seq)


def canonical(params: dict[str, Any]) -> str:
    import json

    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class HistoryCache:
    """LRU of project histories for one store."""

    def __init__(self, store: Store, max_projects: int = 64) -> None:
        self.store = store
        self.max_projects = max_projects
        self._items: OrderedDict[str, History] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, project_id: str) -> History:
        with self._lock:
            h = self._items.pop(project_id, None) or History(project_id)
            self._items[project_id] = h
            while len(self._items) > self.max_projects:
                self._items.popitem(last=False)
        self.refresh(h)
        return h

    def refresh(self, h: History) -> None:
        with self._lock:
            store = self.store
            if store.tests.max_seq(h.project_id) > h.tests_seq:
                h._add_tests(store.tests.list_since(h.project_id, h.tests_seq))
            if store.runs.max_seq(h.project_id) > h.runs_seq:
                h._add_runs(store.runs.list_since(h.project_id, h.runs_seq))


_caches: dict[int, HistoryCache] = {}


def history_for(store: Store, project_id: str) -> History:
    """The (refreshed) history of a project, through the per-store cache."""
    cache = _caches.get(id(store))
    if cache is None or cache.store is not store:
        cache = _caches[id(store)] = HistoryCache(store)
    return cache.get(project_id)
