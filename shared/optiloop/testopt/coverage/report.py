"""Coverage report of a project: is the loop still finding new behaviour, and at what cost?

Everything is derived from the cached history, so the report costs one incremental refresh and a
linear pass, not a full reload per request.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.testopt.flaky import RERUN_OPERATOR, flaky_report
from optiloop.testopt.history import History, canonical, history_for
from optiloop.testopt.surrogate.trained import accuracy, registered

MAX_CURVE_POINTS = 200
SEVERE = 3
WINDOW = 100


def _downsample(points: list[list[int]], k: int) -> list[list[int]]:
    """Evenly spaced points, always keeping the first and the last, so the curve's end is exact."""
    if len(points) <= k:
        return points
    idx = sorted({round(i * (len(points) - 1) / (k - 1)) for i in range(k)})
    return [points[i] for i in idx]


def coverage_report(deps: Deps, project_id: str) -> dict[str, Any]:
    project = get_project(deps, project_id)
    h = history_for(deps.store, project_id)
    runs = [h.runs[t] for t in h.run_order]

    curve: list[list[int]] = [[0, 0]]
    seen: set[int | str] = set()
    gains: list[int] = []
    failures: dict[str, int] = {}
    first_fail = first_severe = None
    for n, r in enumerate(runs, start=1):
        before = len(seen)
        seen.update(r.buckets)
        gains.append(len(seen) - before)
        curve.append([n, len(seen)])
        if r.status == "fail":
            failures[str(r.failure_severity)] = failures.get(str(r.failure_severity), 0) + 1
            if first_fail is None:
                first_fail = n
            if first_severe is None and r.failure_severity >= SEVERE:
                first_severe = n

    # new buckets per block of 100 runs in ingestion order; the last block may be partial
    marginal = [sum(gains[i : i + WINDOW]) for i in range(0, len(gains), WINDOW)]
    budget = project.budget_cents
    trained = registered(deps, project_id)
    return {
        "project_id": project_id,
        "unique_buckets": len(h.buckets_seen | seen),
        "tests_suggested": len(h.tests),
        "tests_run": len(h.run_order),  # every run; the curve and failure counts read the held ones
        "pending": len(h.pending),
        "growth_curve": _downsample(curve, MAX_CURVE_POINTS),
        "marginal_gain_per_100": marginal,
        "failures_by_severity": dict(sorted(failures.items(), key=lambda kv: int(kv[0]))),
        "tests_to_first_failure": first_fail,
        "tests_to_first_severe_failure": first_severe,
        "duplicate_rate": duplicate_rate(h),
        "spend_cents": h.cost_cents,  # the history's running total: exact past its window
        "budget_cents": budget,
        "budget_left_cents": None if budget is None else budget - h.cost_cents,
        # the registered failure surrogate (POST .../policies:train) and how it ranks the runs it has
        # not seen; None when the project has none
        "surrogate": accuracy(h, trained) if trained is not None else None,
        # params run more than once (reruns, repeats) whose outcomes disagree: see optiloop.testopt.flaky
        "flaky": flaky_report(h),
    }


def duplicate_rate(h: History) -> float:
    """Share of suggested tests whose params equal an earlier suggested test's: wasted runner time.
    Reruns (`runs:ingest` with `rerun_of`) are deliberate repeats, not suggestions, and are left out."""
    tests = [t for t in h.tests if t.operator != RERUN_OPERATOR]
    if not tests:
        return 0.0
    seen: set[str] = set()
    dup = 0
    for t in tests:
        key = canonical(t.params)
        if key in seen:
            dup += 1
        seen.add(key)
    return dup / len(tests)


CSV_COLUMNS = (
    "n",
    "test_id",
    "status",
    "failure_severity",
    "new_buckets",
    "cumulative_buckets",
    "cost_cents",
    "cumulative_cost_cents",
)


def coverage_csv(deps: Deps, project_id: str) -> str:
    """One row per run in ingestion order, for spreadsheets and notebooks."""
    get_project(deps, project_id)
    h = history_for(deps.store, project_id)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    seen: set[int | str] = set()
    spend = 0.0
    for n, tid in enumerate(h.run_order, start=1):
        r = h.runs[tid]
        before = len(seen)
        seen.update(r.buckets)
        spend += r.cost_cents
        w.writerow(
            [
                n,
                r.test_id,
                r.status,
                r.failure_severity,
                len(seen) - before,
                len(seen),
                _num(r.cost_cents),
                _num(spend),
            ]
        )
    return out.getvalue()


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
