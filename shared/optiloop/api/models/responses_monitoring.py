"""What the model-monitoring routes answer (issue 12): monitors, their runs, alerts and ground-truth
feedback. Extra fields stay allowed (`ResponseModel`): minor versions add fields, and a client must
ignore the ones it does not know. Fields a run has only on some paths (drift or performance, enough
data or not) have defaults."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class MonitorRunOut(ResponseModel):
    run_id: str = Field(description="The run's id (`mrun_...`).")
    monitor_id: str = Field(description="The monitor it evaluated.")
    deployment_id: str = Field(description="The model deployment watched.")
    model_version_id: str = Field(description="The stable version whose captures were measured.")
    type: str = Field(description="`data_drift`, `prediction_drift` or `performance`.")
    metric: str = Field(description="What was measured, e.g. `psi`, `ks`, `auc`, `rmse`.")
    threshold: float = Field(description="The monitor's threshold.")
    at: str = Field(description="When it ran (ISO-8601, UTC).")
    window: dict[str, Any] = Field(description="The captured window: `rows`, `from`, `to`, `truncated`.")
    status: str = Field(description="`ok`, `breached` or `insufficient_data` (`reason` says why).")
    reason: str | None = Field(default=None, description="Why there was too little data; only then.")
    value: float | None = Field(default=None, description="The measured value (drift: the worst feature's).")
    direction: str | None = Field(
        default=None,
        description="`ceiling` (breached above the threshold) or `floor` (below: a metric to keep high).",
    )
    reference: dict[str, Any] | None = Field(
        default=None,
        description="Drift: what the window was compared with (`baseline`, per-feature `sources`).",
    )
    features: dict[str, Any] | None = Field(
        default=None,
        description="Drift: per feature, `metric`, `value`, counts and missing or unseen shares.",
    )
    skipped: dict[str, str] | None = Field(
        default=None, description="Drift: features without a reference, and why."
    )
    worst_feature: str | None = Field(default=None, description="Data drift: the feature that drifted most.")
    p_value: float | None = Field(
        default=None, description="The worst feature's test p-value, when the metric has one."
    )
    labelled_rows: int | None = Field(
        default=None, description="Performance: rows of the window with a label."
    )
    training_value: float | None = Field(default=None, description="Performance: the metric when trained.")
    decay: float | None = Field(default=None, description="Performance: how much worse than when trained.")
    alert: dict[str, Any] | None = Field(
        default=None,
        description="The alert it opened, updated or resolved: `id`, `event`, `status`, `severity`.",
    )
    retrain_request: dict[str, Any] | None = Field(
        default=None, description="The retraining request an opened alert filed: `id`, `status`."
    )


class MonitorOut(ResponseModel):
    id: str = Field(description="The monitor's id (`mon_...`).")
    deployment_id: str = Field(description="The model deployment it watches.")
    project_id: str = Field(description="The project it belongs to.")
    model_id: str = Field(description="The registry model deployed.")
    type: str = Field(description="`data_drift`, `prediction_drift` or `performance`.")
    features: list[str] = Field(description="Data drift: the input features watched; empty otherwise.")
    metric: str = Field(description="What is measured, e.g. `psi`, `ks`, `auc`, `rmse`.")
    threshold: float = Field(description="Past it, the run is `breached` and an alert opens.")
    window: dict[str, Any] = Field(description="The captured window measured: `rows` or `minutes`.")
    schedule: dict[str, Any] = Field(description="How often it runs: `every_minutes`.")
    severity: str = Field(description="The severity of the alerts it opens.")
    retrain: dict[str, Any] | None = Field(description="What an opened alert asks to retrain; null: nothing.")
    reference: dict[str, Any] = Field(description="What the window is compared with: a baseline or `rows`.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    next_run_at: str | None = Field(description="When the schedule runs it next.")
    last_run_at: str | None = Field(description="When it last ran; null before its first run.")
    last_result: dict[str, Any] | None = Field(
        description="Its last run in brief: `run_id`, `at`, `status`, `value`, `reason`, `alert`."
    )
    open_alert_id: str | None = Field(description="The alert it holds open; null: none.")
    status: str = Field(description="`active`: it runs on its schedule.")


class MonitorDetail(MonitorOut):
    runs: list[MonitorRunOut] = Field(description="Its most recent runs, newest first (`runs` of them).")


class MonitorList(ResponseModel):
    items: list[MonitorOut] = Field(description="The deployment's monitors.")


class AlertOut(ResponseModel):
    id: str = Field(description="The alert's id (`alr_...`).")
    monitor_id: str = Field(description="The monitor that opened it.")
    deployment_id: str = Field(description="The model deployment.")
    project_id: str = Field(description="The project it belongs to.")
    severity: str = Field(description="As the monitor says.")
    status: str = Field(description="`open`, `acknowledged` or `resolved`.")
    message: str = Field(description="What breached, for people.")
    metric: str = Field(description="The monitor's metric.")
    threshold: float = Field(description="The monitor's threshold.")
    value: float = Field(description="The latest breaching value.")
    opened_at: str = Field(description="When it opened (ISO-8601, UTC).")
    last_seen_at: str = Field(description="The latest run that found the breach.")
    breaches: int = Field(description="How many runs breached while it was open.")
    details: dict[str, Any] = Field(
        description="The run behind it: `run_id`, `model_version_id`, `window`, `worst_feature`."
    )
    acknowledged_at: str | None = Field(description="When it was acknowledged; null: not yet.")
    acknowledged_by: str | None = Field(description="Who acknowledged it.")
    resolved_at: str | None = Field(description="When a run found it no longer breached; null: not yet.")
    retrain_request_id: str | None = Field(description="The retraining request it filed; null: none.")


class AlertList(ResponseModel):
    items: list[AlertOut] = Field(description="The deployment's alerts, newest first.")


class FeedbackAccepted(ResponseModel):
    deployment_id: str = Field(description="The model deployment.")
    accepted: int = Field(description="Labels stored.")
    replaced: int = Field(
        description="Of those, labels that replaced an earlier label of the same prediction."
    )
