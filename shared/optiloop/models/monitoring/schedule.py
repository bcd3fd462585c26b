"""Run every monitor that is due: the body of the EventBridge-invoked `monitors` function on AWS and
of the in-process scheduler thread of `optiloop serve` (`optiloop.workflows.scheduler`).

Each monitor says how often it runs (`schedule.every_minutes`) and carries its `next_run_at`; a
tick evaluates those whose time has come, so the tick's own rate only bounds how late a monitor can
be. One monitor failing (a deleted version, an unreadable artifact) is logged and counted, and the
others still run. The tick is bounded (MAX_PER_TICK evaluations): what is left is due at the next.
"""

from __future__ import annotations

import logging
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import OptiLoopError
from optiloop.models.monitoring.evaluate import SYSTEM, evaluate
from optiloop.models.monitoring.records import INDEX_SCOPE, MONITOR, MONITOR_INDEX
from optiloop.store.ports import iter_chunks

log = logging.getLogger("optiloop.models.monitoring")
MAX_PER_TICK = 200
PAGE = 500


def due_monitor_ids(deps: Deps, now: str) -> tuple[int, list[str]]:
    """(monitors checked, ids of the active ones due at `now`), oldest due first."""
    checked = 0
    due: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        page = deps.store.docs.list(MONITOR_INDEX, INDEX_SCOPE, after=after, limit=PAGE)
        for chunk in iter_chunks([d.id for d in page], 100):
            for doc in deps.store.docs.get_many(MONITOR, list(chunk)).values():
                checked += 1
                m = doc.data
                if m.get("status", "active") == "active" and str(m.get("next_run_at", "")) <= now:
                    due.append((str(m.get("next_run_at", "")), doc.id))
        if len(page) < PAGE:
            break
        after = page[-1].sort
    return checked, [mid for _, mid in sorted(due)]


def run_due(deps: Deps, now: str | None = None) -> dict[str, Any]:
    """Evaluate the due monitors; the summary is what the scheduled function logs and counts."""
    now = now or deps.clock()
    checked, due = due_monitor_ids(deps, now)
    summary: dict[str, Any] = {
        "checked": checked,
        "due": len(due),
        "evaluated": 0,
        "breached": 0,
        "insufficient_data": 0,
        "alerts_opened": 0,
        "alerts_resolved": 0,
        "retrain_requests": 0,
        "errors": [],
        "max_drift": None,
    }
    for monitor_id in due[:MAX_PER_TICK]:
        try:
            result = evaluate(deps, SYSTEM, monitor_id)
        except OptiLoopError as e:
            log.warning("monitor %s could not be evaluated: %s", monitor_id, e.message)
            summary["errors"].append({"monitor_id": monitor_id, "error": e.message})
            continue
        except Exception as e:
            log.exception("monitor %s failed", monitor_id)
            summary["errors"].append(
                {"monitor_id": monitor_id, "error": f"{e.__class__.__name__}: {e}"[:300]}
            )
            continue
        summary["evaluated"] += 1
        status = result.get("status")
        if status == "breached":
            summary["breached"] += 1
        elif status == "insufficient_data":
            summary["insufficient_data"] += 1
        event = (result.get("alert") or {}).get("event")
        summary["alerts_opened"] += event == "opened"
        summary["alerts_resolved"] += event == "resolved"
        summary["retrain_requests"] += "retrain_request" in result
        if result.get("type") != "performance" and isinstance(result.get("value"), float):
            prev = summary["max_drift"]
            summary["max_drift"] = result["value"] if prev is None else max(prev, result["value"])
    summary["left_for_next_tick"] = max(0, len(due) - MAX_PER_TICK)
    return summary
