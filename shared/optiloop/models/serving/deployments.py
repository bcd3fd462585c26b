"""Model deployments: deploy a version (stable, or as a canary/blue-green/shadow candidate next to
the stable one), promote the candidate, roll back, and roll back automatically on a broken SLO.

One deployment per model and environment (a `model_deployment_slot` claim): deploying a version
where one already serves makes it the candidate under the request's strategy; `promote` makes the
candidate stable in one call and `rollback` drops it (or, with none, returns to the stable version
before). Production is protected as for prompts: only an Approved version, checked against the
version's stored status inside the transaction that moves the pointer, at deploy and at promote;
an Archived or Rejected version is deployable nowhere. Every move is audited and kept (bounded) on
the record; the deployment is linked to its versions in the lineage graph in the same transaction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deletion import is_deleted, tombstone
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.models import lineage
from optiloop.models.monitoring.records import MAX_MONITORS_PER_DEPLOYMENT, MONITOR
from optiloop.models.serving import metrics
from optiloop.models.serving.endpoint import DEFAULT_INSTANCE, require_backend
from optiloop.models.serving.records import (
    ENVIRONMENTS,
    HISTORY,
    KIND,
    PROTECTED_ENVIRONMENTS,
    SLOT_KIND,
    STRATEGIES,
    ModelDeployment,
    deployment_doc,
    from_doc,
    live_doc,
    slot_id,
)
from optiloop.projects import get_project
from optiloop.store.records import Doc

DEFAULT_TRAFFIC: dict[str, dict[str, float]] = {
    "canary": {"stable": 90, "canary": 10},
    "blue_green": {"stable": 100, "canary": 0},  # green stands by until promoted
    "shadow": {"stable": 0, "canary": 100},  # mirror every request to the shadow
}
SLO_KEYS = ("latencyMsP95", "errorRatePct")
DEFAULT_CAPTURE_RATE = 0.1
SLO_GUARD = "optiloop:slo-guard"


def check_strategy(raw: Any) -> dict[str, Any]:
    """The strategy with its traffic normalised to {"stable", "canary"} percentages summing to 100.

    For `shadow` the candidate's share is the percent of requests mirrored to it (answers always come
    from stable); `shadow` is accepted as the name of that share."""
    raw = raw if raw is not None else {"type": "canary"}
    if not isinstance(raw, dict):
        raise InvalidInput(FieldProblem("strategy", "must be an object with type and traffic"))
    kind = raw.get("type", "canary")
    if kind not in STRATEGIES:
        raise InvalidInput(FieldProblem("strategy.type", f"must be one of {', '.join(STRATEGIES)}"))
    traffic = raw.get("traffic", DEFAULT_TRAFFIC[kind])
    if not isinstance(traffic, dict):
        raise InvalidInput(
            FieldProblem("strategy.traffic", "must be an object like {stable: 90, canary: 10}")
        )
    names = {"stable", "canary", "shadow"} if kind == "shadow" else {"stable", "canary"}
    unknown = sorted(set(traffic) - names)
    if unknown or not traffic:
        raise InvalidInput(
            FieldProblem("strategy.traffic", f"shares are named {' and '.join(sorted(names))}, got {unknown}")
        )
    shares: dict[str, float] = {}
    for k, v in traffic.items():
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(v)
            or not 0 <= v <= 100
        ):
            raise InvalidInput(FieldProblem(f"strategy.traffic.{k}", "must be a percentage 0..100"))
        shares["canary" if k == "shadow" else k] = float(v)
    stable, canary = shares.get("stable", 0.0), shares.get("canary", 0.0)
    if abs(stable + canary - 100.0) > 1e-9:
        raise InvalidInput(
            FieldProblem("strategy.traffic", f"the shares must sum to 100, got {stable + canary:g}")
        )
    return {"type": kind, "traffic": {"stable": _num(stable), "canary": _num(canary)}}


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def check_slos(raw: Any) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(
            FieldProblem("slos", "must be an object like {latencyMsP95: 500, errorRatePct: 1}")
        )
    out: dict[str, float] = {}
    for k, v in raw.items():
        if k not in SLO_KEYS:
            raise InvalidInput(FieldProblem(f"slos.{k}", f"unknown SLO (known: {', '.join(SLO_KEYS)})"))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InvalidInput(FieldProblem(f"slos.{k}", "must be a positive number"))
        if k == "errorRatePct" and v > 100:
            raise InvalidInput(FieldProblem(f"slos.{k}", "is a percentage: at most 100"))
        out[k] = v
    return out


def _check_environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise InvalidInput(FieldProblem("environment", f"must be one of {', '.join(ENVIRONMENTS)}"))


def _check_status(version: dict[str, Any], status: str, environment: str, field: str) -> None:
    label = f"model version {version.get('version')} ('{version['id']}')"
    if status in ("Archived", "Rejected"):
        raise Conflict(
            f"{label} is {status} and cannot be deployed or served",
            details=[{"field": field, "reason": f"is {status}"}],
        )
    if environment in PROTECTED_ENVIRONMENTS and status != "Approved":
        raise Conflict(
            f"'{environment}' is protected: {label} is {status} and needs approval first",
            details=[{"field": field, "reason": f"is {status}, not Approved"}],
        )


def get_version(deps: Deps, version_id: str, field: str = "model_version_id") -> dict[str, Any]:
    doc = deps.store.docs.require("model_version", version_id, field=field, what="model version")
    return doc.data


def _variant(deps: Deps, version: dict[str, Any], instance_type: str | None) -> dict[str, Any]:
    v = {
        "model_version_id": version["id"],
        "model_id": version["model_id"],
        "version": version["version"],
        "artifact_key": version["artifact_key"],
        "artifact_sha256": version["artifact_sha256"],
        "runtime": version["runtime"],
        "endpoint_name": None,
    }
    if version["runtime"] == "endpoint":
        backend = require_backend(getattr(deps, "endpoints", None), version["id"])
        v["endpoint_name"] = backend.ensure(version, instance_type or DEFAULT_INSTANCE)
    return v


def deploy_model(
    deps: Deps,
    who: Principal,
    model_version_id: str,
    environment: str,
    strategy: Any = None,
    slos: Any = None,
    *,
    capture_rate: float = DEFAULT_CAPTURE_RATE,
    instance_type: str | None = None,
) -> ModelDeployment:
    _check_environment(environment)
    strat, objectives = check_strategy(strategy), check_slos(slos)
    if not 0.0 <= capture_rate <= 1.0:
        raise InvalidInput(FieldProblem("capture_rate", "must be between 0 and 1"))
    version = get_version(deps, model_version_id)
    authorize(who, Action.DEPLOY, version["project_id"])
    get_project(deps, version["project_id"])
    _check_status(version, version["status"], environment, "model_version_id")  # before any endpoint
    model = deps.store.docs.get("model", version["model_id"])
    model_name = str(model.data.get("name", version["model_id"])) if model else version["model_id"]
    variant = _variant(deps, version, instance_type)
    now = deps.clock()
    docs = deps.store.docs
    with deps.store.transaction():
        fresh = get_version(deps, model_version_id)
        _check_status(fresh, fresh["status"], environment, "model_version_id")
        claim = docs.get(SLOT_KIND, slot_id(version["model_id"], environment))
        if claim is None:
            dep = ModelDeployment(
                id=deps.ids("dep"),
                project_id=version["project_id"],
                model_id=version["model_id"],
                model_name=model_name,
                environment=environment,
                stable=variant,
                candidate=None,
                strategy=strat,
                slos=objectives,
                capture_rate=capture_rate,
                created_at=now,
                created_by=who.name,
                updated_at=now,
                updated_by=who.name,
            )
            dep = replace(dep, history=[_entry(dep, "deploy", now, who.name)])
            docs.create(
                Doc(
                    kind=SLOT_KIND,
                    id=slot_id(dep.model_id, environment),
                    scope=dep.project_id,
                    sort=f"{dep.model_id}#{environment}",
                    data={"id": dep.id},
                )
            )
            docs.create(deployment_doc(dep))
            action, previous = "deploy", None
        else:
            doc = docs.require(KIND, claim.data["id"], field="deployment_id", what="deployment")
            old = from_doc(doc)
            previous = _pointers(old)
            same = old.stable["model_version_id"] == model_version_id
            dep = replace(
                old,
                candidate=None if same else variant,
                strategy=strat,
                slos=objectives,
                capture_rate=capture_rate,
                updated_at=now,
                updated_by=who.name,
            )
            action = "update" if same else strat["type"]
            dep = replace(dep, history=[*old.history, _entry(dep, action, now, who.name)][-HISTORY:])
            docs.replace(deployment_doc(dep), doc.rev)
        lineage.link(
            deps, "model_version", model_version_id, "deployment", dep.id, "deployed_as",
            project_id=dep.project_id,
        )  # fmt: skip
        record(
            deps,
            who,
            f"model_deployment.{action}",
            dep.project_id,
            dep.id,
            {
                "environment": environment,
                "model_version_id": model_version_id,
                "artifact_sha256": version["artifact_sha256"],
                "status": fresh["status"],
                "strategy": strat,
                "slos": objectives,
                "from": previous,
                "to": _pointers(dep),
            },
        )
    return dep


def _pointers(d: ModelDeployment) -> dict[str, Any]:
    return {
        "stable": d.stable["model_version_id"],
        "candidate": d.candidate["model_version_id"] if d.candidate else None,
        "strategy": d.strategy,
    }


def _entry(d: ModelDeployment, action: str, at: str, by: str, **extra: Any) -> dict[str, Any]:
    return {"action": action, "at": at, "by": by, "stable": d.stable, "candidate": d.candidate, **extra}


def get_model_deployment(
    deps: Deps, who: Principal | None, deployment_id: str, action: Action = Action.PROJECT_READ
) -> ModelDeployment:
    doc = deps.store.docs.require(KIND, deployment_id, field="deployment_id", what="deployment")
    if who is not None:
        authorize(who, action, from_doc(doc).project_id)  # before saying whether it was undeployed
    return from_doc(live_doc(deps.store.docs, deployment_id) if is_deleted(doc) else doc)


def list_model_deployments(
    deps: Deps, project_id: str, *, after: str | None = None, limit: int = 100
) -> list[tuple[str, ModelDeployment]]:
    """One page of the project's live model deployments in creation order, each with its listing
    cursor (`created_at#id`, comparable with a prompt deployment's)."""
    return [(d.sort, from_doc(d)) for d in deps.store.docs.list(KIND, project_id, after=after, limit=limit)]


def promote(deps: Deps, who: Principal, deployment_id: str) -> ModelDeployment:
    """The candidate becomes stable (all traffic), in one call."""
    get_model_deployment(deps, who, deployment_id, Action.DEPLOY)
    with deps.store.transaction():
        doc = live_doc(deps.store.docs, deployment_id)
        old = from_doc(doc)
        if old.candidate is None:
            raise Conflict(
                f"deployment '{deployment_id}' has no canary, blue/green or shadow version to promote",
                details=[{"field": "deployment_id", "reason": "no candidate"}],
            )
        fresh = get_version(deps, old.candidate["model_version_id"], "candidate.model_version_id")
        _check_status(fresh, fresh["status"], old.environment, "candidate.model_version_id")
        return _move(deps, who, doc, old, old.candidate, None, "promote", {})


def rollback(deps: Deps, who: Principal, deployment_id: str, reason: str = "") -> ModelDeployment:
    """Drop the candidate (stable keeps serving); with no candidate, return to the previous stable."""
    get_model_deployment(deps, who, deployment_id, Action.DEPLOY)
    with deps.store.transaction():
        doc = live_doc(deps.store.docs, deployment_id)
        old = from_doc(doc)
        if old.candidate is not None:
            return _move(deps, who, doc, old, old.stable, None, "rollback", {"reason": reason})
        current = old.stable["model_version_id"]
        earlier = [h["stable"] for h in reversed(old.history) if h["stable"]["model_version_id"] != current]
        if not earlier:
            raise Conflict(
                f"deployment '{deployment_id}' has never served another version; nothing to roll back to",
                details=[{"field": "deployment_id", "reason": "no earlier version"}],
            )
        target = earlier[0]
        fresh = get_version(deps, target["model_version_id"], "deployment_id")
        _check_status(fresh, fresh["status"], old.environment, "deployment_id")
        return _move(deps, who, doc, old, target, None, "rollback", {"reason": reason})


def _move(
    deps: Deps,
    who: Principal,
    doc: Doc,
    old: ModelDeployment,
    stable: dict[str, Any],
    candidate: dict[str, Any] | None,
    action: str,
    details: dict[str, Any],
) -> ModelDeployment:
    now = deps.clock()
    new = replace(old, stable=stable, candidate=candidate, updated_at=now, updated_by=who.name)
    new = replace(new, history=[*old.history, _entry(new, action, now, who.name, **details)][-HISTORY:])
    deps.store.docs.replace(deployment_doc(new), doc.rev)
    record(
        deps,
        who,
        f"model_deployment.{action}",
        new.project_id,
        new.id,
        {"environment": new.environment, "from": _pointers(old), "to": _pointers(new), **details},
    )
    return new


def undeploy(deps: Deps, who: Principal, deployment_id: str, reason: str = "") -> ModelDeployment:
    """Stop serving: the deployment is tombstoned (`optiloop.deletion`; its history kept, with an
    `undeploy` entry) and its model/environment slot released, so predictions answer 404 and the next
    deploy of the model there starts a new deployment. One transaction with the audit record
    `model_deployment.undeploy`. Production may be taken down by admins only (its versions needed an
    approval to get there). A SageMaker endpoint a variant used is left running: endpoints are named
    per version and may serve another deployment; delete unused ones in SageMaker."""
    dep = get_model_deployment(deps, who, deployment_id, Action.DEPLOY)
    if dep.environment in PROTECTED_ENVIRONMENTS:
        authorize(who, Action.UNDEPLOY_PROTECTED, dep.project_id)
    now = deps.clock()
    with deps.store.transaction():
        doc = live_doc(deps.store.docs, deployment_id)
        old = from_doc(doc)
        new = replace(old, updated_at=now, updated_by=who.name)
        extra = {"reason": reason} if reason else {}
        new = replace(new, history=[*old.history, _entry(new, "undeploy", now, who.name, **extra)][-HISTORY:])
        deps.store.docs.delete(SLOT_KIND, slot_id(old.model_id, old.environment))
        deps.store.docs.replace(tombstone(deployment_doc(new), who, now), doc.rev)
        stopped = _stop_monitors(deps, old.id, now)
        record(
            deps,
            who,
            "model_deployment.undeploy",
            old.project_id,
            old.id,
            {
                "environment": old.environment,
                "from": _pointers(old),
                "reason": reason,
                "monitors_stopped": stopped,
            },
        )
    return new


def _stop_monitors(deps: Deps, deployment_id: str, at: str) -> list[str]:
    """The deployment's active monitors stop (status `stopped`): nothing serves any more, so there is
    nothing to watch, and the scheduler skips them instead of evaluating an empty window every tick.
    They stay readable, with their runs and alerts."""
    stopped = []
    for doc in deps.store.docs.list(MONITOR, deployment_id, limit=MAX_MONITORS_PER_DEPLOYMENT):
        if doc.data.get("status", "active") == "active":
            extra = {**(doc.data.get("extra") or {}), "stopped_at": at, "stopped_because": "undeployed"}
            data = {**doc.data, "status": "stopped", "extra": extra}
            deps.store.docs.replace(replace(doc, data=data), doc.rev)
            stopped.append(doc.id)
    return stopped


def enforce_slos(deps: Deps, deployment_id: str) -> ModelDeployment | None:
    """Roll the canary back when it breaks the deployment's SLOs over the last window; the rolled
    back deployment, or None when nothing was done. Audited as `model_deployment.auto_rollback`."""
    doc = deps.store.docs.get(KIND, deployment_id)
    if doc is None or is_deleted(doc):
        return None
    dep = from_doc(doc)
    if dep.candidate is None or not dep.slos or dep.strategy.get("type") == "shadow":
        return None  # a shadow answers nobody: its failures cost users nothing
    cand = dep.candidate["model_version_id"]
    window = metrics.window(deps, deployment_id, metrics.WINDOWS[metrics.SLO_WINDOW], "canary", cand)
    reasons = metrics.slo_breaches({"canary": window}, dep.slos)
    if not reasons:
        return None
    guard = Principal(name=SLO_GUARD, role="admin", project_id=dep.project_id, key_id=None)
    with deps.store.transaction():
        fresh = deps.store.docs.get(KIND, deployment_id)
        if fresh is None or is_deleted(fresh):  # undeployed meanwhile
            return None
        current = from_doc(fresh)
        if current.candidate is None or current.candidate["model_version_id"] != cand:
            return None  # someone moved it meanwhile
        details = {
            "reason": "; ".join(reasons),
            "slos": dep.slos,
            "window": metrics.SLO_WINDOW,
            "canary": window,
        }
        return _move(deps, guard, fresh, current, current.stable, None, "auto_rollback", details)


def as_dict(d: ModelDeployment) -> dict[str, Any]:
    return {**asdict(d), "protected": d.environment in PROTECTED_ENVIRONMENTS}
