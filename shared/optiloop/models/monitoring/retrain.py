"""The retraining trigger: what a breached monitor with `retrain` asks for, and how it never promotes.

When an evaluation opens an alert at or above the monitor's `retrain.on` severity, this records

* a `model_retrain_request` document (scope the model) with the monitor, the alert, the evidence
  (metric, value, threshold, window) and the monitor's `training` spec: the request the training
  workflow reads (train -> evaluate -> register -> approve -> deploy);
* a `monitor.retrain_requested` audit record, in the same transaction.

It then starts the experiment workflow (`optiloop.workflows.executions.start_experiment`: train ->
evaluate -> register -> approve -> deploy) with the monitor's `training` spec as its input and
`approval` forced on, when the spec names an entry point; whatever that does, the request stays the
record of why. Nothing here registers, promotes or deploys: the version a
retrain produces enters the registry like any other and reaches production only through an approval
request (`model_version` approvals: four eyes and the policy gates), so a drifting model is never
silently replaced. One request per alert: a breach that persists updates its alert, it does not
ask again.
"""

from __future__ import annotations

import logging
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.models.monitoring.records import RETRAIN_REQUEST, SEVERITIES, Alert, Monitor
from optiloop.store.records import Doc

log = logging.getLogger("optiloop.models.monitoring")


def wanted(monitor: Monitor) -> bool:
    """Does an alert of this monitor ask for a retrain? (its severity at or above `retrain.on`)"""
    if not monitor.retrain:
        return False
    on = str(monitor.retrain.get("on", "critical"))
    return SEVERITIES.index(monitor.severity) >= SEVERITIES.index(on) if on in SEVERITIES else False


def request(
    deps: Deps, who: Principal, monitor: Monitor, alert: Alert, result: dict[str, Any]
) -> dict[str, Any]:
    """Record the request (doc + audit) and try to start the job; returns the request."""
    now = deps.clock()
    req: dict[str, Any] = {
        "id": deps.ids("rtr"),
        "project_id": monitor.project_id,
        "model_id": monitor.model_id,
        "deployment_id": monitor.deployment_id,
        "model_version_id": result.get("model_version_id"),
        "monitor_id": monitor.id,
        "alert_id": alert.id,
        "requested_at": now,
        "requested_by": who.name,
        "reason": alert.message,
        "evidence": {
            "metric": monitor.metric,
            "value": alert.value,
            "threshold": monitor.threshold,
            "window": result.get("window"),
        },
        "training": dict((monitor.retrain or {}).get("training") or {}),
        "status": "requested",  # requested -> started (a workflow execution exists) | failed_to_start
        "workflow_execution_id": None,
        "approval": "required",  # the retrained version reaches production only through approvals
    }
    doc = Doc(kind=RETRAIN_REQUEST, id=req["id"], scope=monitor.model_id, sort=f"{now}#{req['id']}", data=req)
    with deps.store.transaction():
        deps.store.docs.create(doc)
        record(
            deps,
            who,
            "monitor.retrain_requested",
            monitor.project_id,
            monitor.model_id,
            {
                k: req[k]
                for k in ("id", "monitor_id", "alert_id", "deployment_id", "model_version_id", "evidence")
            },
        )
    return _start(deps, who, req, doc)


def workflow_body(req: dict[str, Any]) -> dict[str, Any]:
    """The experiment workflow's input for a retrain: the monitor's `training` spec (entry_point,
    inputs, hyperparameters, evaluation, deploy...) with the project and model filled in and
    `approval` forced on, so the version it registers waits for four eyes before any deployment."""
    spec = dict(req["training"])
    spec.pop("approval", None)
    return {
        **spec,
        "project_id": req["project_id"],
        "model": {**dict(spec.get("model") or {}), "model_id": req["model_id"]},
        "approval": True,
    }


def _start(deps: Deps, who: Principal, req: dict[str, Any], doc: Doc) -> dict[str, Any]:
    """The hook into the experiment workflow (train -> evaluate -> register -> approve -> deploy):
    started when the spec names an entry point; a refusal (a bad spec, a caller without model.write)
    is noted on the request, never raised: the alert and the request stand either way."""
    if not req["training"].get("entry_point"):
        return req
    from optiloop.workflows.executions import start_experiment  # lazy: the workflow engine is heavy

    try:
        execution = start_experiment(deps, who, workflow_body(req))
        req = {**req, "status": "started", "workflow_execution_id": execution["id"]}
    except Exception as e:  # the request is the record; a failed start is noted on it
        log.warning("retrain request %s: the workflow did not start: %s", req["id"], e)
        reason = getattr(e, "message", None) or str(e)
        details = getattr(e, "details", None)
        req = {**req, "status": "failed_to_start", "error": str(reason)[:500]}
        if details:
            req["error_details"] = details[:10]
    deps.store.docs.replace(Doc(doc.kind, doc.id, doc.scope, doc.sort, req), doc.rev)
    return req


def list_requests(deps: Deps, model_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """A model's retraining requests, newest first (what the training workflow reads)."""
    return [d.data for d in deps.store.docs.list(RETRAIN_REQUEST, model_id, limit=limit, descending=True)]
