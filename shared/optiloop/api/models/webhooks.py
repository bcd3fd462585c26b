"""Request and response models of the webhooks router.

Shape only: the event types, the URL rules (SSRF) and the bounds are checked in the core
(optiloop.webhooks.subscriptions, optiloop.webhooks.urls), so the API and a direct caller get the
same 422 naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from optiloop.api.models.common import RequestModel, ResponseModel
from optiloop.webhooks.records import DEFAULT_ACCURACY_THRESHOLD, DEFAULT_PLATEAU_RUNS, EVENT_TYPES

EVENTS_DOC = "; ".join(f"`{k}`: {v}" for k, v in EVENT_TYPES.items())


class WebhookCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/optiloop",
                    "events": ["failure.new_mode", "coverage.plateau"],
                    "description": "on-call channel",
                    "plateau_runs": 500,
                }
            ]
        }
    )

    url: Annotated[str, Field(min_length=1, max_length=2048, description="http(s); a public host")]
    events: Annotated[list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=20)] = (
        Field(description=EVENTS_DOC)
    )
    description: Annotated[str, Field(max_length=500)] = Field(
        "", description="Free text for people: what listens at the URL (at most 500 characters)."
    )
    plateau_runs: int = Field(
        DEFAULT_PLATEAU_RUNS, description="coverage.plateau: runs without a new bucket (1..1,000,000)"
    )
    accuracy_threshold: float = Field(
        DEFAULT_ACCURACY_THRESHOLD, description="surrogate.accuracy_low: the AUC below which it fires"
    )


class WebhookOut(ResponseModel):
    id: str = Field(description="The webhook's id (`whk_...`).")
    project_id: str
    url: str = Field(description="Where events are POSTed, signed with the webhook's secret.")
    events: list[str] = Field(description="The event types it receives.")
    description: str = Field(description="Free text for people.")
    plateau_runs: int = Field(description="coverage.plateau fires after this many runs without a new bucket.")
    accuracy_threshold: float = Field(
        description="surrogate.accuracy_low fires when the AUC falls below this."
    )
    status: str = Field(description="`active`: events are delivered to it.")
    created_at: str
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret: shown in this answer only, keep it")


class WebhookList(ResponseModel):
    items: list[WebhookOut]
    next_after: str | None


class DeliveryOut(ResponseModel):
    id: str = Field(description="The delivery's id (`whd_...`), sent as the `OptiLoop-Delivery` header.")
    webhook_id: str = Field(description="The webhook it is delivered to.")
    event_id: str = Field(
        description="The event's id (`evt_...`); the same event has one delivery per webhook."
    )
    event_type: str = Field(description="The event's type, one of the webhook's `events`.")
    status: str = Field(description="pending, delivered, failed (attempts exhausted) or cancelled")
    attempt_count: int = Field(
        description="Attempts made so far: at most 8 (1 for a test ping), then `failed`."
    )
    response_code: int | None = Field(
        description="The HTTP status of the last attempt; null if it got no response."
    )
    error: str | None = Field(
        description="Why the last attempt failed (at most 300 characters); null after a 2xx."
    )
    next_attempt_at: str | None = Field(
        description="When it is retried (jittered exponential backoff; ISO-8601, UTC); null unless pending."
    )
    created_at: str
    updated_at: str
    delivered_at: str | None = Field(description="When a 2xx came back (ISO-8601, UTC); null until then.")
    attempts: list[dict[str, Any]] = Field(
        description="Every attempt, oldest first: `n`, `at`, `response_code`, `error`, `duration_ms`."
    )
    event: dict[str, Any] = Field(
        description="The body POSTed: `id`, `type`, `project_id`, `created_at` and the event's `data`."
    )


class DeliveryList(ResponseModel):
    items: list[DeliveryOut]
    next_after: str | None
