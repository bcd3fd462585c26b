"""Model monitoring: monitors on a deployment, running them, their alerts, and label feedback.

The custom methods on one resource (`/v1/monitoring/monitors/{monitor_id}:run`,
`/v1/monitoring/{deployment_id}/alerts/{alert_id}:acknowledge`) reach API Gateway as the resource
of the bare parameter (`infra_cdk.routes.gateway_path`), which passes the whole segment through.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import AfterValidator

from optiloop.api.models.monitoring import AcknowledgeIn, FeedbackIn, MonitorCreate
from optiloop.api.models.responses_monitoring import (
    AlertList,
    AlertOut,
    FeedbackAccepted,
    MonitorDetail,
    MonitorList,
    MonitorOut,
    MonitorRunOut,
)
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.models.monitoring import alerts, evaluate, feedback, monitors
from optiloop.names import check_name

router = APIRouter(tags=["monitoring"])


@router.post("/v1/monitoring/{deployment_id}/monitors", status_code=201, response_model=MonitorOut)
def create_monitor(
    deployment_id: EntityId,
    body: MonitorCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """A monitor on a model deployment (data drift, prediction drift or a performance metric against a
    threshold over a window); it runs on the schedule and on demand (`:run`), opening alerts past its
    threshold."""
    return monitors.create(deps, who, deployment_id, body.model_dump(exclude_none=True))


@router.get("/v1/monitoring/{deployment_id}/monitors", response_model=MonitorList)
def list_monitors(
    deployment_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The deployment's monitors and their configuration."""
    return {"items": monitors.list_monitors(deps, who, deployment_id)}


@router.get(
    "/v1/monitoring/monitors/{monitor_id}", response_model=MonitorDetail, response_model_exclude_unset=True
)
def get_monitor(
    monitor_id: EntityId,
    runs: Annotated[int, Query(ge=0, le=100, description="recent runs to include, newest first")] = 5,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """One monitor, with its most recent runs (`runs`, newest first)."""
    out = monitors.get(deps, who, monitor_id)
    out["runs"] = evaluate.recent_runs(deps, who, monitor_id, runs) if runs else []
    return out


@router.post(
    "/v1/monitoring/monitors/{monitor_id}:run",
    summary="Evaluate a monitor now",
    response_model=MonitorRunOut,
    response_model_exclude_unset=True,
)
def run_monitor(
    monitor_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Run the monitor now on the captured window: the value, the threshold, the verdict, and the
    alert it opened if any."""
    return evaluate.run(deps, who, monitor_id)


@router.get("/v1/monitoring/{deployment_id}/alerts", response_model=AlertList)
def list_alerts(
    deployment_id: EntityId,
    status: Annotated[str | None, Query(max_length=20, description="open, acknowledged or resolved")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The deployment's alerts, newest first, optionally by status (open, acknowledged, resolved)."""
    return {"items": alerts.list_alerts(deps, who, deployment_id, status, limit)}


@router.post("/v1/monitoring/{deployment_id}/alerts/{alert_id}:acknowledge", response_model=AlertOut)
def acknowledge_alert(
    deployment_id: EntityId,
    alert_id: Annotated[
        str,
        Path(
            min_length=1, max_length=100, description="The alert's id (`alr_...`), one of the deployment's."
        ),
        AfterValidator(check_name),
    ],
    body: Annotated[
        AcknowledgeIn | None, Body(examples=[{"comment": "known upstream schema change"}])
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Acknowledge an open alert, with a comment; audited."""
    return alerts.acknowledge(deps, who, deployment_id, alert_id, body.comment if body else "")


@router.post("/v1/deployments/{deployment_id}/feedback", response_model=FeedbackAccepted)
def send_feedback(
    deployment_id: EntityId,
    body: FeedbackIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Ground-truth labels for predictions the deployment served (by request id), for the performance
    monitors."""
    return feedback.submit(deps, who, deployment_id, [label.model_dump() for label in body.labels])
