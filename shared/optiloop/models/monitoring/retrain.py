"""The retraining trigger: what a breached monitor with `retrain` asks for, and how it never promotes.

When an evaluation opens an alert at or above the monitor's `retrain.on` severity, this records

* a `model_retrain_request` document (scope the model) with the monitor, the alert, the evidence
  (metric, value, threshold, window) and the monitor's `training` spec: the request the training
  workflow reads (train -> evaluate -> register -> approve -> deploy);
* a `monitor.retrain_requested` audit record, in the same transaction.

It then starts the training job if the training code offers a job-creating function
(`optiloop.models.training.jobs.create_job`) and the spec names an entry point; whatever that does,
the request stays the record of why. Nothing here registers, promotes or deploys: the version a
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
        "status": "requested",  # requested -> started (a job exists) | failed_to_start
        "training_job_id": None,
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


def _start(deps: Deps, who: Principal, req: dict[str, Any], doc: Doc) -> dict[str, Any]:
    """The hook into the training code: start a job when it can be started; never raise."""
    spec = req["training"]
    if not spec.get("entry_point"):
        return req
    try:
        from optiloop.models.training import jobs  # type: ignore[attr-defined,unused-ignore]

        create_job = getattr(jobs, "create_job", None)
    except ImportError:
        create_job = None
    if create_job is None:
        return req
    try:
        job = create_job(deps, who, req["project_id"], spec)
        job_id = job.get("id") if isinstance(job, dict) else getattr(job, "id", None)
        req = {**req, "status": "started", "training_job_id": job_id}
    except Exception as e:
        log.warning("retrain request %s: the training job did not start: %s", req["id"], e)
        req = {**req, "status": "failed_to_start", "error": str(e)[:500]}
    deps.store.docs.replace(Doc(doc.kind, doc.id, doc.scope, doc.sort, req), doc.rev)
    return req


def list_requests(deps: Deps, model_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """A model's retraining requests, newest first (what the training workflow reads)."""
    return [d.data for d in deps.store.docs.list(RETRAIN_REQUEST, model_id, limit=limit, descending=True)]
