"""Webhooks: subscriptions to a project's events, their delivery log, and a test delivery (ping).

Subscriptions live under their project for creation and listing and by id afterwards, like training
jobs. Every route needs `project.update` on the project (see optiloop.webhooks.subscriptions).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from optiloop.api.models.webhooks import (
    DeliveryList,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
)
from optiloop.api.params import EntityId, ProjectId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.deps import Deps
from optiloop.webhooks import deliveries, subscriptions

router = APIRouter(tags=["webhooks"])
After = Annotated[str | None, Query(max_length=300, description="next_after of the previous page")]


@router.post("/v1/projects/{project_id}/webhooks", status_code=201, response_model=WebhookCreated)
def create_webhook(
    project_id: ProjectId,
    body: WebhookCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Subscribe a URL to event types; the answer holds the signing secret, shown this once."""
    return subscriptions.create(
        deps,
        who,
        project_id,
        body.url,
        body.events,
        description=body.description,
        plateau_runs=body.plateau_runs,
        accuracy_threshold=body.accuracy_threshold,
    )


@router.get("/v1/projects/{project_id}/webhooks", response_model=WebhookList)
def list_webhooks(
    project_id: ProjectId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The project's webhooks (their URLs and event types, never their signing secrets)."""
    items, next_after = subscriptions.list_for(deps, who, project_id, after=after, limit=limit)
    return {"items": items, "next_after": next_after}


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(
    webhook_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """One webhook: its URL, event types and state, never its signing secret."""
    return subscriptions.get(deps, who, webhook_id)


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
def delete_webhook(
    webhook_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> Response:
    """Stop sending: pending deliveries are cancelled; the log stays until it expires."""
    subscriptions.delete(deps, who, webhook_id)
    return Response(status_code=204)


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveryList)
def list_deliveries(
    webhook_id: EntityId,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """The delivery log, newest first: every event, its attempts, status, response code and error."""
    items, next_after = deliveries.list_deliveries(deps, who, webhook_id, after=after, limit=limit)
    return {"items": items, "next_after": next_after}


@router.post("/v1/webhooks/{webhook_id}/ping", response_model=DeliveryOut)
def ping_webhook(
    webhook_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Send a signed `ping` event now (one attempt) and answer what the receiver said."""
    return deliveries.ping(deps, who, webhook_id)
