"""`GET /v1/dashboards/metrics`: the series a dashboard of LLM calls needs, from the project's `generate`
traces — per hour or day: calls, latency p50/p95, cost per call, success rate (answers not blocked by
guardrails) and its difference from the window's baseline, cache hit rate — and the drift the
detectors find on the per-call streams in time order (Page-Hinkley on latency and cost, ADWIN on
success).

Bounded: at most `MAX_TRACES` of the newest traces in the window are read (`truncated` says when
more exist), in pages. The baseline is the window's own rate: a bucket far from it, or a detector
firing, is what a dashboard highlights. Filters: `model`, `prompt_version_id`, `label`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.decisions import drift
from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.prompts import traces

MAX_TRACES = 20_000
PAGE = 500


def _since(deps: Deps, hours: int) -> str:
    now = datetime.fromisoformat(deps.clock().replace("Z", "+00:00"))
    return (
        (now - timedelta(hours=hours))
        .astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _read(
    deps: Deps, project_id: str, since: str, filters: dict[str, str]
) -> tuple[list[dict[str, Any]], bool]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = traces.list_traces(deps, project_id, PAGE, cursor)
        for t in page:
            if t["at"] < since:
                return out, False
            if all(t.get(k) == v for k, v in filters.items()):
                out.append(t)
                if len(out) >= MAX_TRACES:
                    return out, True
        if len(page) < PAGE:
            return out, False
        cursor = page[-1]["cursor"]


def metrics(
    deps: Deps,
    who: Principal,
    project_id: str,
    *,
    hours: int = 24,
    bucket: str = "hour",
    filters: dict[str, str] | None = None,
) -> dict[str, Any]:
    authorize(who, Action.TRACE_READ, project_id)
    get_project(deps, project_id)
    since = _since(deps, hours)
    rows, truncated = _read(deps, project_id, since, filters or {})
    rows.reverse()  # oldest first: the detectors read the streams in time order
    width = 13 if bucket == "hour" else 10
    ok = np.array([0.0 if t.get("blocked") else 1.0 for t in rows])
    baseline = float(ok.mean()) if rows else None
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in rows:
        groups.setdefault(t["at"][:width], []).append(t)
    series = [_bucket(key, items, baseline) for key, items in sorted(groups.items())]
    return {
        "project_id": project_id,
        "since": since,
        "bucket": bucket,
        "filters": filters or {},
        "calls": len(rows),
        "truncated": truncated,
        "baseline": {"success_rate": baseline},
        "series": series,
        "drift": _drift(rows, ok),
    }


def _bucket(key: str, items: list[dict[str, Any]], baseline: float | None) -> dict[str, Any]:
    lat = np.array([float(t.get("latency_ms") or 0.0) for t in items])
    cost = np.array([float(t.get("cost_usd") or 0.0) for t in items])
    success = float(np.mean([0.0 if t.get("blocked") else 1.0 for t in items]))
    return {
        "start": key,
        "calls": len(items),
        "latency_p50_ms": float(np.percentile(lat, 50)),
        "latency_p95_ms": float(np.percentile(lat, 95)),
        "cost_per_call_usd": float(cost.mean()),
        "success_rate": success,
        "success_vs_baseline": success - baseline if baseline is not None else None,
        "cache_hit_rate": float(np.mean([1.0 if t.get("cached") else 0.0 for t in items])),
    }


def _drift(rows: list[dict[str, Any]], ok: np.ndarray) -> list[dict[str, Any]]:
    """Where each detector fired (the trace's time), per stream; scales from the stream itself."""
    found: list[dict[str, Any]] = []
    if len(rows) < 30:
        return found
    streams = {
        "latency_ms": np.array([float(t.get("latency_ms") or 0.0) for t in rows]),
        "cost_usd": np.array([float(t.get("cost_usd") or 0.0) for t in rows]),
    }
    for name, values in streams.items():
        sd = float(values[:30].std()) or 1.0
        det = drift.PageHinkley(delta=0.1 * sd, threshold=25.0 * sd)
        found += [{"metric": name, "detector": "page_hinkley", "at": rows[i]["at"]}
                  for i, v in enumerate(values) if det.update(float(v))]  # fmt: skip
    adwin = drift.Adwin()
    found += [{"metric": "success", "detector": "adwin", "at": rows[i]["at"]}
              for i, v in enumerate(ok) if adwin.update(float(v))]  # fmt: skip
    return found
