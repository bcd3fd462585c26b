"""emit(): an event becomes delivery documents inside the caller's transaction (a transactional outbox).

The documents are written with the change that caused the event, so an event exists if and only if
that change committed: an ingest that rolls back leaves no `failure.new_mode` behind, and nothing is
sent from inside a request (a slow receiver never slows an ingest). The dispatcher
(`optiloop.webhooks.dispatch`) sends what the outbox holds.

Per matching subscription: one `webhook_delivery` (the log entry, with the whole body) and one
`webhook_due` (the dispatcher's index); for the EventBridge bus, one `webhook_bus`. A project with no
subscriptions (and no bus) writes nothing and reads nothing beyond the cached `targets_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optiloop.deps import Deps
from optiloop.store.records import Doc
from optiloop.webhooks.records import (
    BUS,
    BUS_SCOPE,
    DELIVERY,
    DUE,
    DUE_SCOPE,
    PENDING,
    RETENTION_S,
    epoch,
)
from optiloop.webhooks.subscriptions import Target, targets_of


def event_body(deps: Deps, project_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": deps.ids("evt"),
        "type": event_type,
        "project_id": project_id,
        "created_at": deps.clock(),
        "data": data,
    }


def add_delivery(deps: Deps, webhook_id: str, event: dict[str, Any], max_attempts: int | None = None) -> Doc:
    """The delivery of `event` to one subscription, due now (joins the caller's transaction)."""
    now = str(event["created_at"])
    delivery_id = deps.ids("whd")
    expires = epoch(now) + RETENTION_S
    data: dict[str, Any] = {
        "id": delivery_id,
        "webhook_id": webhook_id,
        "project_id": event["project_id"],
        "event_id": event["id"],
        "event_type": event["type"],
        "status": PENDING,
        "attempt_count": 0,
        "response_code": None,
        "error": None,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "delivered_at": None,
        "attempts": [],
        "event": event,
    }
    if max_attempts is not None:
        data["max_attempts"] = max_attempts
    doc = Doc(DELIVERY, delivery_id, webhook_id, f"{now}|{delivery_id}", data, expires_at=expires)
    deps.store.docs.create(doc)
    deps.store.docs.create(
        Doc(
            DUE,
            delivery_id,
            DUE_SCOPE,
            f"{now}|{delivery_id}",
            {"webhook_id": webhook_id},
            expires_at=expires,
        )
    )
    return doc


def emit(
    deps: Deps,
    project_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    only: Callable[[Target], bool] | None = None,
) -> str | None:
    """Queue `event_type` for every active target of the project that subscribes to it (and passes
    `only`); the event's id, or None when nothing wanted it. Call inside the transaction of the
    change the event reports."""
    targets = [
        t for t in targets_of(deps, project_id) if event_type in t.events and (only is None or only(t))
    ]
    if not targets:
        return None
    event = event_body(deps, project_id, event_type, data)
    for t in targets:
        if t.is_bus:
            now = str(event["created_at"])
            deps.store.docs.create(
                Doc(BUS, str(event["id"]), BUS_SCOPE, f"{now}|{event['id']}", {"event": event},
                    expires_at=epoch(now) + RETENTION_S)
            )  # fmt: skip
        else:
            add_delivery(deps, t.key, event)
    return str(event["id"])
