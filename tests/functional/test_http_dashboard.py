"""`GET /v1/dashboards/metrics` over generate traces: hourly series (latency p50/p95, cost per call,
success vs baseline, cache hits), filters, drift found where latency jumps, and bad queries by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from optiloop.prompts import traces


def seed(api: Any, pid: str) -> None:
    now = datetime.now(UTC)
    for i in range(240):  # 4 hours of calls, one a minute; latency jumps 5x in the last hour
        at = (now - timedelta(minutes=240 - i)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        latency = 100.0 + i % 7 + (400.0 if i >= 180 else 0.0)
        traces.save(api.deps, {"id": f"trc_{pid[-6:]}_{i:04d}", "project_id": pid, "at": at,
                               "model": "m-small" if i % 2 else "m-large", "latency_ms": latency,
                               "cost_usd": 0.001, "cached": i % 4 == 0, "blocked": i % 10 == 0})  # fmt: skip


def test_hourly_series_filters_and_drift(api: Any) -> None:
    pid = api.project("dash")
    seed(api, pid)
    r = api.client.get("/v1/dashboards/metrics", headers=api.admin, params={"project_id": pid, "hours": 6})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["calls"] == 240 and not out["truncated"]
    assert abs(out["baseline"]["success_rate"] - 0.9) < 1e-9
    series = out["series"]
    assert sum(b["calls"] for b in series) == 240 and [b["start"] for b in series] == sorted(
        b["start"] for b in series
    )
    assert series[0]["latency_p95_ms"] < 110 and series[-1]["latency_p50_ms"] > 450
    assert all(abs(b["cost_per_call_usd"] - 0.001) < 1e-12 for b in series)
    assert abs(sum(b["cache_hit_rate"] * b["calls"] for b in series) - 60) < 1e-9
    jumps = [d for d in out["drift"] if d["metric"] == "latency_ms"]
    assert jumps and jumps[0]["at"] >= series[-2]["start"]
    query = {"project_id": pid, "hours": 6, "model": "m-small", "bucket": "day"}
    small = api.client.get("/v1/dashboards/metrics", headers=api.admin, params=query).json()
    assert small["calls"] == 120 and small["bucket"] == "day"


def test_bad_queries_name_the_field(api: Any) -> None:
    pid = api.project("dash-bad")
    for params, field in (({"project_id": pid, "hours": 0}, "query.hours"),
                          ({"project_id": pid, "bucket": "week"}, "query.bucket"),
                          ({}, "query.project_id")):  # fmt: skip
        r = api.client.get("/v1/dashboards/metrics", headers=api.admin, params=params)
        assert r.status_code == 422 and api.error_fields(r) == [field], r.text
    r = api.client.get("/v1/dashboards/metrics", headers=api.admin, params={"project_id": "prj_nope"})
    assert r.status_code == 404
    viewer = api.key("viewer", api.project("other"))
    r = api.client.get("/v1/dashboards/metrics", headers=viewer, params={"project_id": pid})
    assert r.status_code == 403
