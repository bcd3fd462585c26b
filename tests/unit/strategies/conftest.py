"""A tiny harness: a project on an in-memory store, driven through the real use cases."""

from __future__ import annotations

import hashlib

import pytest

from optiloop.auth.principal import Principal
from optiloop.store.factory import open_memory
from optiloop.store.records import Constraint, Project
from optiloop.testopt.deps import Deps, new_id, utc_now
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.testopt.suggest import SuggestRequest, suggest

ADMIN = Principal(name="t", role="admin", project_id=None, key_id="k")


class Loop:
    def __init__(self, schema: dict, soft: list[str] | None = None) -> None:
        store, blobs = open_memory()
        self.deps = Deps(store=store, blobs=blobs)
        self.pid = new_id("prj")
        store.projects.add(
            Project(id=self.pid, name="p", description="", created_at=utc_now(), created_by="t")
        )
        store.constraints.add(
            Constraint(
                id=new_id("con"),
                project_id=self.pid,
                name="base",
                type="hard",
                weight=0.0,
                json_schema=schema,
                version=1,
                created_at=utc_now(),
                created_by="t",
            )
        )
        if soft:
            store.constraints.add(
                Constraint(
                    id=new_id("con"),
                    project_id=self.pid,
                    name="prefs",
                    type="soft",
                    weight=2.0,
                    json_schema={"relations": soft},
                    version=1,
                    created_at=utc_now(),
                    created_by="t",
                )
            )

    def suggest(self, **kw) -> dict:
        return suggest(self.deps, self.pid, SuggestRequest(**kw), "t")

    def ingest(self, tests: list[dict]) -> None:
        """Fake outcomes: buckets from coarse hashes of the params, a failure in one corner."""
        reports = []
        for t in tests:
            items = sorted(t["params"].items())
            buckets = [
                int(hashlib.sha256(repr((k, str(v)[:3])).encode()).hexdigest()[:8], 16) for k, v in items
            ]
            fail = any(isinstance(v, int | float) and not isinstance(v, bool) and v == 1 for _, v in items)
            reports.append(
                RunReport(
                    test_id=t["id"],
                    status="fail" if fail else "pass",
                    duration_ms=5,
                    cost_cents=1,
                    failure_severity=3 if fail else 0,
                    buckets_hit=buckets,
                )
            )
        ingest_runs(self.deps, ADMIN, self.pid, reports)


@pytest.fixture
def loop_factory():
    return Loop
