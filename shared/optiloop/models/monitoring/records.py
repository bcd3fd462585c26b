"""The monitoring documents and their access paths in the generic document store.

* model_monitor           scope deployment, sort created_at#id   a deployment's monitors
* model_monitor_index     scope "all",      sort monitor id      every monitor: what the scheduler walks
* model_monitor_run       scope monitor,    sort at#id           each evaluation (kept RUN_TTL_S)
* model_alert             scope deployment, sort opened_at#id    a deployment's alerts, oldest first
* model_alert_open        id monitor id                          claim: at most one unresolved alert
                                                                 per monitor (created with the alert)
* inference_label         scope deployment, sort request#index   labels for served predictions
* model_retrain_request   scope model,      sort at#id           what a breached monitor asked for

Monitors and alerts are few per deployment, so their listings are read whole (bounded by
MAX_MONITORS_PER_DEPLOYMENT and the alert page size); labels and runs carry `expires_at` so neither
grows without bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from optiloop.store.records import Doc

MONITOR = "model_monitor"
MONITOR_INDEX = "model_monitor_index"
MONITOR_RUN = "model_monitor_run"
ALERT = "model_alert"
ALERT_OPEN = "model_alert_open"
LABEL = "inference_label"
RETRAIN_REQUEST = "model_retrain_request"
INDEX_SCOPE = "all"

MONITOR_TYPES: tuple[str, ...] = ("data_drift", "prediction_drift", "performance")
SEVERITIES: tuple[str, ...] = ("warning", "critical")
ALERT_STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")
MAX_MONITORS_PER_DEPLOYMENT = 50
RUN_TTL_S = 90 * 24 * 3600
LABEL_TTL_S = 180 * 24 * 3600

T = TypeVar("T")


@dataclass(frozen=True)
class Monitor:
    id: str
    deployment_id: str
    project_id: str
    model_id: str
    type: str
    features: list[str]  # data_drift: the inputs watched (all by default); others: []
    metric: str
    threshold: float
    window: dict[str, int]  # {"minutes": n} or {"rows": n}
    schedule: dict[str, int]  # {"every_minutes": n}
    severity: str
    retrain: dict[str, Any] | None  # {"on": "critical"|"warning", "training": {...}}
    reference: dict[str, int]  # without a baseline: {"rows": n}, the first n captured rows
    created_at: str
    created_by: str
    next_run_at: str
    last_run_at: str | None = None
    last_result: dict[str, Any] | None = None
    open_alert_id: str | None = None
    status: str = "active"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    id: str
    monitor_id: str
    deployment_id: str
    project_id: str
    severity: str
    status: str  # open | acknowledged | resolved
    message: str
    metric: str
    threshold: float
    value: float
    opened_at: str
    last_seen_at: str
    breaches: int = 1  # evaluations in breach since it opened
    details: dict[str, Any] = field(default_factory=dict)
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    resolved_at: str | None = None
    retrain_request_id: str | None = None


def from_data(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def monitor_doc(m: Monitor) -> Doc:
    return Doc(kind=MONITOR, id=m.id, scope=m.deployment_id, sort=f"{m.created_at}#{m.id}", data=asdict(m))


def index_doc(m: Monitor) -> Doc:
    return Doc(
        kind=MONITOR_INDEX,
        id=m.id,
        scope=INDEX_SCOPE,
        sort=m.id,
        data={"monitor_id": m.id, "deployment_id": m.deployment_id},
    )


def alert_doc(a: Alert) -> Doc:
    return Doc(kind=ALERT, id=a.id, scope=a.deployment_id, sort=f"{a.opened_at}#{a.id}", data=asdict(a))
