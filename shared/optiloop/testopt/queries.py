"""Read models over a project's tests, served from the cached history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.testopt.history import history_for


def list_tests(
    deps: Deps, project_id: str, *, status: str | None = None, after_seq: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Tests in seq order; `status=pending` is what a runner polls for work."""
    get_project(deps, project_id)
    h = history_for(deps.store, project_id)
    items: list[dict[str, Any]] = []
    last_seq: int | None = None
    for t in h.tests:
        if t.seq <= after_seq:
            continue
        run = h.runs.get(t.id)
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
    more = len(items) == limit and last_seq is not None and any(t.seq > last_seq for t in h.tests[-1:])
    return {"items": items, "next_after_seq": last_seq if more else None}
