"""Read models over a project's tests, served from the cached history.

The history holds the newest `window` tests; a listing that starts before them reads the older
ones from the store in pages of seq ranges, and stops after SCAN_LIMIT of them with a cursor, so a
request never walks a million-test history (a `status=pending` filter over old tests may then
answer fewer than `limit` items and a `next_after_seq` to continue from)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.store.records import Run, TestCase
from optiloop.testopt.history import History, history_for

PAGE = 1000
SCAN_LIMIT = 20_000  # old tests read from the store per request, at most


def _tests_from(
    deps: Deps, h: History, after_seq: int, stopped: list[int]
) -> Iterator[tuple[TestCase, Run | None]]:
    """Tests after `after_seq` in seq order with their runs: the store for those older than the
    retained window, then the window. If the scan budget runs out first, the seq it reached is
    appended to `stopped`."""
    first = h.tests[h.tests.base].seq if h.tests.retained else h.tests_seq + 1
    cur, scanned = after_seq, 0
    while cur < first - 1 and scanned < SCAN_LIMIT:
        top = min(cur + PAGE, first - 1)
        page = deps.store.tests.list_since(h.project_id, cur, until_seq=top)
        runs = deps.store.runs.get_many(h.project_id, [t.id for t in page]) if page else {}
        for t in page:
            yield t, runs.get(t.id)
        scanned += top - cur
        cur = top
    if cur < first - 1:  # the scan budget is spent: the caller pages on from here
        stopped.append(cur)
        return
    for t in h.tests:
        if t.seq > after_seq:
            yield t, h.runs.get(t.id)


def list_tests(
    deps: Deps, project_id: str, *, status: str | None = None, after_seq: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Tests in seq order; `status=pending` is what a runner polls for work."""
    get_project(deps, project_id)
    h = history_for(deps.store, project_id)
    items: list[dict[str, Any]] = []
    last_seq: int | None = None
    stopped: list[int] = []
    for t, run in _tests_from(deps, h, after_seq, stopped):
        if (status == "pending" and run is not None) or (status == "ran" and run is None):
            continue
        if len(items) == limit:
            break
        d = asdict(t)
        d["status"] = "ran" if run is not None else "pending"
        if run is not None:
            d["run"] = {
                "status": run.status,
                "failure_severity": run.failure_severity,
                "duration_ms": run.duration_ms,
                "cost_cents": run.cost_cents,
                "new_buckets": run.new_buckets,
                "seq": run.seq,
                "ingested_at": run.ingested_at,
            }
        items.append(d)
        last_seq = t.seq
    if stopped and len(items) < limit:  # the scan budget ran out before the end: continue from there
        return {"items": items, "next_after_seq": stopped[0]}
    more = len(items) == limit and last_seq is not None and h.tests_seq > last_seq
    return {"items": items, "next_after_seq": last_seq if more else None}
