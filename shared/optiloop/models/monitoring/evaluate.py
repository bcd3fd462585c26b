"""Evaluate one monitor now: read its window, measure, record the run, move its alert, maybe retrain.

The same function serves `POST /v1/monitoring/monitors/{id}:run` and the scheduler. An evaluation
with too little data (fewer than MIN_ROWS served rows, MIN_LABELS labelled ones, or an incomplete
reference window) says so (`insufficient_data`) and leaves the alert as it was: silence is not
recovery, and a quiet hour must neither open nor resolve anything.

Data drift is breached when any watched feature's statistic exceeds the threshold (the worst one is
named); prediction drift on the score distribution; performance when the metric crosses its floor
(AUC, accuracy) or ceiling (RMSE, MAE).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.models.monitoring import alerts, captures, feedback, notify, performance, retrain
from optiloop.models.monitoring.baseline import (
    PREDICTION,
    Reference,
    from_baseline,
    from_window,
    score_column,
)
from optiloop.models.monitoring.drift import measure
from optiloop.models.monitoring.monitors import load
from optiloop.models.monitoring.records import MONITOR_RUN, RUN_TTL_S, Monitor, monitor_doc
from optiloop.models.monitoring.targets import BASELINES, Target, load_target
from optiloop.store.records import Doc

MIN_ROWS = 30
MIN_LABELS = 20
SYSTEM = Principal(name="system:monitors", role="owner", project_id=None, key_id=None)
"""Who scheduled evaluations act as in the audit log."""


def run(deps: Deps, who: Principal, monitor_id: str) -> dict[str, Any]:
    """`:run`: evaluate now, as `who` (needs deployment.write on the monitor's project)."""
    monitor, _ = load(deps, monitor_id)
    authorize(who, Action.DEPLOY, monitor.project_id)
    return evaluate(deps, who, monitor_id)


def _references(
    deps: Deps, monitor: Monitor, target: Target, names: list[str]
) -> tuple[dict[str, Reference], dict[str, Any]]:
    """References for `names` (inputs, or PREDICTION): the baseline's where it has them, otherwise the
    first captured rows. The second value says where they came from and what was wrong."""
    baseline, why = BASELINES.get(deps, target.version)
    refs: dict[str, Reference] = {}
    info: dict[str, Any] = {"baseline": baseline is not None}
    if baseline is not None:
        refs, problems = from_baseline(target.signature, baseline)
        if problems:
            info["baseline_problems"] = problems
    elif why:
        info["baseline_missing"] = why
    missing = [n for n in names if n not in refs]
    if missing:
        rows = int(monitor.reference.get("rows", 1000))
        ref_window = captures.first_rows(
            deps, monitor.deployment_id, target.version_id, len(target.signature.inputs), rows
        )
        info["reference_window"] = {**ref_window.describe(), "wanted": rows}
        if ref_window.rows >= rows:
            window_refs = from_window(target.signature, ref_window.x, ref_window.outputs)
            for n in missing:
                if n in window_refs:
                    refs[n] = window_refs[n]
    info["sources"] = {
        n: ("baseline" if baseline is not None and n not in missing else "window") for n in names if n in refs
    }
    return refs, info


def _drift(deps: Deps, monitor: Monitor, target: Target, window: captures.Window) -> dict[str, Any]:
    names = monitor.features if monitor.type == "data_drift" else [PREDICTION]
    refs, info = _references(deps, monitor, target, names)
    out: dict[str, Any] = {"reference": info, "features": {}, "direction": "ceiling"}
    column = {i.name: k for k, i in enumerate(target.signature.inputs)}
    skipped = []
    for name in names:
        ref = refs.get(name)
        if ref is None:
            skipped.append(name)
            continue
        if name == PREDICTION:
            _, values = score_column(target.signature, window.outputs)
        else:
            values = window.x[:, column[name]]
        out["features"][name] = measure(monitor.metric, ref, values)
    if skipped:
        out["skipped"] = {n: "no baseline entry and the reference window is not full yet" for n in skipped}
    if not out["features"]:
        out["status"] = "insufficient_data"
        out["reason"] = "no reference for any watched feature (no baseline; reference window not full)"
        return out
    worst = max(out["features"], key=lambda n: out["features"][n]["value"])
    out["value"] = out["features"][worst]["value"]
    if monitor.type == "data_drift":
        out["worst_feature"] = worst
    if "p_value" in out["features"][worst]:
        out["p_value"] = out["features"][worst]["p_value"]
    out["status"] = "breached" if out["value"] > monitor.threshold else "ok"
    return out


def _performance(deps: Deps, monitor: Monitor, target: Target, window: captures.Window) -> dict[str, Any]:
    y, outs = feedback.join(deps, monitor.deployment_id, window)
    out: dict[str, Any] = {"labelled_rows": int(y.size), "direction": "ceiling"}
    if monitor.metric in performance.HIGHER_IS_BETTER:
        out["direction"] = "floor"
    training = target.version.get("metrics", {}).get(monitor.metric)
    if isinstance(training, (int, float)):
        out["training_value"] = float(training)
    if y.size < MIN_LABELS:
        out.update(status="insufficient_data", reason=f"{y.size} labelled rows; at least {MIN_LABELS} needed")
        return out
    value = performance.measure(monitor.metric, target.signature.task, y, outs)
    if value is None or not np.isfinite(value):
        out.update(status="insufficient_data", reason="the labelled rows hold one class only")
        return out
    out["value"] = round(float(value), 6)
    if "training_value" in out:
        sign = 1.0 if out["direction"] == "floor" else -1.0
        out["decay"] = round(sign * (out["training_value"] - out["value"]), 6)
    out["status"] = (
        "breached" if performance.breached(monitor.metric, out["value"], monitor.threshold) else "ok"
    )
    return out


def evaluate(deps: Deps, who: Principal, monitor_id: str) -> dict[str, Any]:
    """Evaluate the monitor and record everything that follows from it; returns the run's result."""
    monitor, _ = load(deps, monitor_id)
    target = load_target(deps, monitor.deployment_id, field="monitor.deployment_id")
    now = deps.clock()
    window = captures.recent(
        deps, monitor.deployment_id, target.version_id, len(target.signature.inputs), monitor.window, now
    )
    result: dict[str, Any] = {
        "run_id": deps.ids("mrun"),
        "monitor_id": monitor.id,
        "deployment_id": monitor.deployment_id,
        "model_version_id": target.version_id,
        "type": monitor.type,
        "metric": monitor.metric,
        "threshold": monitor.threshold,
        "at": now,
        "window": window.describe(),
    }
    if window.rows < MIN_ROWS:
        result.update(
            status="insufficient_data", reason=f"{window.rows} served rows; at least {MIN_ROWS} needed"
        )
    elif monitor.type == "performance":
        result.update(_performance(deps, monitor, target, window))
    else:
        result.update(_drift(deps, monitor, target, window))
    if result["status"] in ("ok", "breached"):
        alert, event = alerts.apply(deps, who, monitor, result, result["status"] == "breached")
        if alert is not None:
            result["alert"] = {
                "id": alert.id,
                "event": event,
                "status": alert.status,
                "severity": alert.severity,
            }
            if event in ("opened", "resolved"):
                sent = notify.send(deps, alert, event)
                if sent is not None:
                    result["alert"]["notified"] = sent
            if event == "opened" and retrain.wanted(monitor):
                req = retrain.request(deps, who, monitor, alert, result)
                alerts.set_retrain_request(deps, alert, req["id"])
                result["retrain_request"] = {"id": req["id"], "status": req["status"]}
    _record_run(deps, monitor, result)
    return result


def _record_run(deps: Deps, monitor: Monitor, result: dict[str, Any]) -> None:
    """The run document, and the monitor's last result and next due time (retried once on a race)."""
    at = result["at"]
    deps.store.docs.create(
        Doc(
            kind=MONITOR_RUN,
            id=result["run_id"],
            scope=monitor.id,
            sort=f"{at}#{result['run_id']}",
            data=result,
            expires_at=time.time() + RUN_TTL_S,
        )
    )
    keep = ("run_id", "at", "status", "value", "reason", "alert")
    summary: dict[str, Any] = {k: result[k] for k in keep if k in result}
    every = int(monitor.schedule.get("every_minutes", 60))
    for _ in range(2):
        current, rev = load(deps, monitor.id)
        alert = result.get("alert") or {}
        open_id = current.open_alert_id
        if alert.get("event") in ("opened", "updated"):
            open_id = alert["id"]
        elif alert.get("event") == "resolved":
            open_id = None
        updated = replace(
            current,
            last_run_at=at,
            next_run_at=captures.iso_plus(at, every),
            last_result=summary,
            open_alert_id=open_id,
        )
        try:
            deps.store.docs.replace(monitor_doc(updated), rev)
            return
        except Conflict:
            continue


def recent_runs(deps: Deps, who: Principal, monitor_id: str, limit: int = 20) -> list[dict[str, Any]]:
    monitor, _ = load(deps, monitor_id)
    authorize(who, Action.PROJECT_READ, monitor.project_id)
    return [d.data for d in deps.store.docs.list(MONITOR_RUN, monitor.id, limit=limit, descending=True)]
