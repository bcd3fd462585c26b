"""Monitors: create, list and read them, checked against what the deployment serves.

A monitor is checked once, at creation, against the serving version's signature (a feature it
does not have, a metric its task cannot take, a threshold outside the metric's range: each a 422
naming the field), so every later evaluation can trust it. Creating one writes the monitor, its
scheduler index entry, its lineage edge (deployment -> monitor) and its audit record together.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.models import lineage
from optiloop.models.monitoring.drift import DRIFT_METRICS
from optiloop.models.monitoring.performance import PERFORMANCE_METRICS, TASKS_OF
from optiloop.models.monitoring.records import (
    MAX_MONITORS_PER_DEPLOYMENT,
    MONITOR,
    SEVERITIES,
    Monitor,
    from_data,
    index_doc,
    monitor_doc,
)
from optiloop.models.monitoring.targets import Target, load_target

DEFAULT_WINDOW = {"minutes": 60}
DEFAULT_SCHEDULE = {"every_minutes": 60}
DEFAULT_REFERENCE_ROWS = 1000
# the largest value each metric can take (thresholds past it could never breach)
UPPER: dict[str, float] = {"ks": 1.0, "js": 1.0, "auc": 1.0, "accuracy": 1.0}


def _check_metric(kind: str, metric: str, threshold: float, target: Target) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    allowed = PERFORMANCE_METRICS if kind == "performance" else DRIFT_METRICS
    if metric not in allowed:
        return [
            FieldProblem("metric", f"a {kind} monitor measures one of {', '.join(allowed)}, got {metric!r}")
        ]
    if kind == "performance" and target.signature.task not in TASKS_OF[metric]:
        problems.append(
            FieldProblem(
                "metric", f"{metric} does not apply to a {target.signature.task} model ({target.version_id})"
            )
        )
    upper = UPPER.get(metric)
    if not threshold > 0 or (upper is not None and threshold > upper):
        bound = f"in (0, {upper:g}]" if upper is not None else "greater than 0"
        problems.append(FieldProblem("threshold", f"a {metric} threshold must be {bound}, got {threshold:g}"))
    return problems


def _check_features(
    kind: str, features: list[str] | None, target: Target
) -> tuple[list[str], list[FieldProblem]]:
    names = [i.name for i in target.signature.inputs]
    if kind != "data_drift":
        if features:
            return [], [FieldProblem("features", f"only a data_drift monitor watches features, not {kind}")]
        return [], []
    if not features:
        return names, []
    known = set(names)
    problems = [
        FieldProblem(f"features[{k}]", f"'{f}' is not an input of model version {target.version_id}")
        for k, f in enumerate(features)
        if f not in known
    ]
    if len(set(features)) != len(features):
        problems.append(FieldProblem("features", "lists a feature twice"))
    return list(features), problems


def _one_of(raw: dict[str, int] | None, keys: tuple[str, ...], field: str, default: dict[str, int]) -> Any:
    if raw is None:
        return dict(default), []
    given = [k for k in keys if raw.get(k) is not None]
    if len(given) != 1:
        return None, [FieldProblem(field, f"give exactly one of {', '.join(keys)}")]
    return {given[0]: int(raw[given[0]])}, []


def create(deps: Deps, who: Principal, deployment_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A new monitor on a deployment (spec: the request body as a dict; see api/models/monitoring)."""
    target = load_target(deps, deployment_id)
    authorize(who, Action.DEPLOY, target.project_id)
    kind = spec["type"]
    metric = spec.get("metric") or ("auc" if kind == "performance" else "psi")
    threshold = float(spec["threshold"])
    problems = _check_metric(kind, metric, threshold, target)
    features, more = _check_features(kind, spec.get("features"), target)
    problems += more
    window, more = _one_of(spec.get("window"), ("minutes", "rows"), "window", DEFAULT_WINDOW)
    problems += more
    severity = spec.get("severity") or "warning"
    retrain = spec.get("retrain")
    if retrain is not None and retrain.get("on", "critical") not in SEVERITIES:
        problems.append(FieldProblem("retrain.on", f"must be one of {', '.join(SEVERITIES)}"))
    if problems:
        raise InvalidInput(problems)
    existing = deps.store.docs.list(MONITOR, deployment_id, limit=MAX_MONITORS_PER_DEPLOYMENT + 1)
    if len(existing) >= MAX_MONITORS_PER_DEPLOYMENT:
        raise Conflict(
            f"deployment '{deployment_id}' already has {MAX_MONITORS_PER_DEPLOYMENT} monitors",
            details=[{"field": "deployment_id", "reason": f"at most {MAX_MONITORS_PER_DEPLOYMENT} monitors"}],
        )
    now = deps.clock()
    monitor = Monitor(
        id=deps.ids("mon"),
        deployment_id=deployment_id,
        project_id=target.project_id,
        model_id=target.model_id,
        type=kind,
        features=features,
        metric=metric,
        threshold=threshold,
        window=window,
        schedule=dict(spec.get("schedule") or DEFAULT_SCHEDULE),
        severity=severity,
        retrain=None if retrain is None else {"on": retrain.get("on", "critical"), **retrain},
        reference={"rows": int((spec.get("reference") or {}).get("rows", DEFAULT_REFERENCE_ROWS))},
        created_at=now,
        created_by=who.name,
        next_run_at=now,  # the first scheduler tick evaluates it
    )
    with deps.store.transaction():
        deps.store.docs.create(monitor_doc(monitor))
        deps.store.docs.create(index_doc(monitor))
        lineage.link(deps, "deployment", deployment_id, "monitor", monitor.id, "monitored_by",
                     project_id=target.project_id)  # fmt: skip
        record(
            deps,
            who,
            "monitor.created",
            target.project_id,
            monitor.id,
            {
                "deployment_id": deployment_id,
                "model_version_id": target.version_id,
                "type": kind,
                "metric": metric,
                "threshold": threshold,
                "severity": severity,
                "retrain": monitor.retrain is not None,
            },
        )
    return as_dict(monitor)


def as_dict(m: Monitor) -> dict[str, Any]:
    out = asdict(m)
    out.pop("extra", None)
    return out


def load(deps: Deps, monitor_id: str, *, field: str = "monitor_id") -> tuple[Monitor, int]:
    doc = deps.store.docs.require(MONITOR, monitor_id, field=field, what="monitor")
    return from_data(Monitor, doc.data), doc.rev


def get(deps: Deps, who: Principal, monitor_id: str) -> dict[str, Any]:
    monitor, _ = load(deps, monitor_id)
    authorize(who, Action.PROJECT_READ, monitor.project_id)
    return as_dict(monitor)


def list_monitors(deps: Deps, who: Principal, deployment_id: str) -> list[dict[str, Any]]:
    target = load_target(deps, deployment_id)
    authorize(who, Action.PROJECT_READ, target.project_id)
    docs = deps.store.docs.list(MONITOR, deployment_id, limit=MAX_MONITORS_PER_DEPLOYMENT)
    return [as_dict(from_data(Monitor, d.data)) for d in docs]
