"""Alerts: at most one unresolved alert per monitor, moved by each evaluation, acknowledged by people.

A breach opens an alert (status `open`) unless the monitor already has an unresolved one, which is
then updated instead (`breaches` counts the evaluations in breach, `value` is the latest): an
operator gets one page per incident, not one per tick. The first evaluation back under the threshold
resolves it. Acknowledging says "someone is on it" and keeps the alert until it resolves.

The "one unresolved alert" rule holds under concurrent evaluations (the scheduler and a manual
`:run`) through a claim document created in the same transaction as the alert, as approvals do for
"one open request per entity".
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, Literal

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput, NotFound
from optiloop.models.monitoring.records import (
    ALERT,
    ALERT_OPEN,
    ALERT_STATUSES,
    Alert,
    Monitor,
    alert_doc,
    from_data,
)
from optiloop.models.monitoring.targets import load_target
from optiloop.store.records import Doc

Event = Literal["opened", "updated", "resolved", "none"]
MAX_LIST = 500


def _message(m: Monitor, value: float, result: dict[str, Any]) -> str:
    what = {"data_drift": "input drift", "prediction_drift": "prediction drift", "performance": m.metric}[
        m.type
    ]
    worst = result.get("worst_feature")
    where = f" on '{worst}'" if worst else ""
    side = "below" if result.get("direction") == "floor" else "above"
    return f"{what}{where}: {m.metric} {value:.4g} is {side} the threshold {m.threshold:g}"


def apply(
    deps: Deps, who: Principal, monitor: Monitor, result: dict[str, Any], breached: bool
) -> tuple[Alert | None, Event]:
    """Move the monitor's alert for one evaluation's outcome; (the alert, what happened to it)."""
    now = deps.clock()
    claim = deps.store.docs.get(ALERT_OPEN, monitor.id)
    value = float(result["value"])
    if breached and claim is None:
        alert = Alert(
            id=deps.ids("alr"),
            monitor_id=monitor.id,
            deployment_id=monitor.deployment_id,
            project_id=monitor.project_id,
            severity=monitor.severity,
            status="open",
            message=_message(monitor, value, result),
            metric=monitor.metric,
            threshold=monitor.threshold,
            value=value,
            opened_at=now,
            last_seen_at=now,
            details=_details(result),
        )
        claim_doc = Doc(
            kind=ALERT_OPEN,
            id=monitor.id,
            scope=monitor.deployment_id,
            sort=monitor.id,
            data={"alert_id": alert.id},
        )
        try:
            with deps.store.transaction():
                deps.store.docs.create(claim_doc)
                deps.store.docs.create(alert_doc(alert))
                _audit(deps, who, "monitor.alert_opened", alert)
        except Conflict:  # another evaluation opened one a moment ago (all rolled back): ours updates it
            return apply(deps, who, monitor, result, breached)
        return alert, "opened"
    if claim is None:
        return None, "none"
    doc = deps.store.docs.get(ALERT, str(claim.data["alert_id"]))
    if doc is None:  # pragma: no cover - the claim and its alert are written together
        deps.store.docs.delete(ALERT_OPEN, monitor.id)
        return None, "none"
    alert = from_data(Alert, doc.data)
    if breached:
        alert = replace(
            alert,
            value=value,
            last_seen_at=now,
            breaches=alert.breaches + 1,
            message=_message(monitor, value, result),
            details=_details(result),
        )
        deps.store.docs.replace(alert_doc(alert), doc.rev)
        return alert, "updated"
    alert = replace(alert, status="resolved", resolved_at=now, value=value, last_seen_at=now)
    with deps.store.transaction():
        deps.store.docs.replace(alert_doc(alert), doc.rev)
        deps.store.docs.delete(ALERT_OPEN, monitor.id)
        _audit(deps, who, "monitor.alert_resolved", alert)
    return alert, "resolved"


def _details(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("model_version_id", "worst_feature", "window", "run_id", "p_value", "training_value")
    return {k: result[k] for k in keep if k in result}


def _audit(deps: Deps, who: Principal, action: str, alert: Alert) -> None:
    record(
        deps,
        who,
        action,
        alert.project_id,
        alert.id,
        {
            "monitor_id": alert.monitor_id,
            "deployment_id": alert.deployment_id,
            "severity": alert.severity,
            "metric": alert.metric,
            "value": alert.value,
            "threshold": alert.threshold,
        },
    )


def set_retrain_request(deps: Deps, alert: Alert, request_id: str) -> Alert:
    doc = deps.store.docs.require(ALERT, alert.id, field="alert_id", what="alert")
    updated = replace(from_data(Alert, doc.data), retrain_request_id=request_id)
    deps.store.docs.replace(alert_doc(updated), doc.rev)
    return updated


def list_alerts(
    deps: Deps, who: Principal, deployment_id: str, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """A deployment's alerts, newest first, optionally of one status."""
    if status is not None and status not in ALERT_STATUSES:
        raise InvalidInput(FieldProblem("status", f"must be one of {', '.join(ALERT_STATUSES)}"))
    target = load_target(deps, deployment_id)
    authorize(who, Action.PROJECT_READ, target.project_id)
    out: list[dict[str, Any]] = []
    after: str | None = None
    scanned = 0
    while len(out) < limit and scanned < MAX_LIST * 10:
        page = deps.store.docs.list(ALERT, deployment_id, after=after, limit=MAX_LIST, descending=True)
        scanned += len(page)
        out.extend(d.data for d in page if status is None or d.data.get("status") == status)
        if len(page) < MAX_LIST:
            break
        after = page[-1].sort
    return out[:limit]


def acknowledge(
    deps: Deps, who: Principal, deployment_id: str, alert_id: str, comment: str = ""
) -> dict[str, Any]:
    """open -> acknowledged (acknowledging twice is the same answer); a resolved alert is a 409."""
    target = load_target(deps, deployment_id)
    authorize(who, Action.DEPLOY, target.project_id)
    doc = deps.store.docs.get(ALERT, alert_id)
    if doc is None or doc.data.get("deployment_id") != deployment_id:
        raise NotFound(
            f"no alert '{alert_id}' on deployment '{deployment_id}'",
            details=[{"field": "alert_id", "reason": "no such alert on this deployment"}],
        )
    alert = from_data(Alert, doc.data)
    if alert.status == "resolved":
        raise Conflict(
            f"alert '{alert_id}' is already resolved",
            details=[{"field": "status", "reason": "is resolved"}],
        )
    if alert.status == "acknowledged":
        return asdict(alert)
    alert = replace(alert, status="acknowledged", acknowledged_at=deps.clock(), acknowledged_by=who.name)
    with deps.store.transaction():
        deps.store.docs.replace(alert_doc(alert), doc.rev)
        record(
            deps,
            who,
            "monitor.alert_acknowledged",
            alert.project_id,
            alert.id,
            {"monitor_id": alert.monitor_id, "deployment_id": deployment_id, "comment": comment},
        )
    return asdict(alert)
