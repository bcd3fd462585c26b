"""Request and response models of the webhooks router.

Shape only: the event types, the URL rules (SSRF) and the bounds are checked in the core
(optiloop.webhooks.subscriptions, optiloop.webhooks.urls), so the API and a direct caller get the
same 422 naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from optiloop.api.models.common import RequestModel, ResponseModel
from optiloop.webhooks.records import DEFAULT_ACCURACY_THRESHOLD, DEFAULT_PLATEAU_RUNS, EVENT_TYPES

EVENTS_DOC = "; ".join(f"`{k}`: {v}" for k, v in EVENT_TYPES.items())


class WebhookCreate(RequestModel):
    url: Annotated[str, Field(min_length=1, max_length=2048, description="http(s); a public host")]
    events: Annotated[list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=20)] = (
        Field(description=EVENTS_DOC)
    )
    description: Annotated[str, Field(max_length=500)] = ""
    plateau_runs: int = Field(
        DEFAULT_PLATEAU_RUNS, description="coverage.plateau: runs without a new bucket (1..1,000,000)"
    )
    accuracy_threshold: float = Field(
        DEFAULT_ACCURACY_THRESHOLD, description="surrogate.accuracy_low: the AUC below which it fires"
    )


class WebhookOut(ResponseModel):
    id: str
    project_id: str
    url: str
    events: list[str]
    description: str
    plateau_runs: int
    accuracy_threshold: float
    status: str
    created_at: str
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret: shown in this answer only, keep it")


class WebhookList(ResponseModel):
    items: list[WebhookOut]
    next_after: str | None


class DeliveryOut(ResponseModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: str = Field(description="pending, delivered, failed (attempts exhausted) or cancelled")
    attempt_count: int
    response_code: int | None
    error: str | None
    next_attempt_at: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None
    attempts: list[dict[str, Any]]
    event: dict[str, Any]


class DeliveryList(ResponseModel):
    items: list[DeliveryOut]
    next_after: str | None
