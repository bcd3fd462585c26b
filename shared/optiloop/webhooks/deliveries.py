"""The delivery log of a subscription, and ping (a test delivery sent at once)."""

from __future__ import annotations

from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.webhooks.dispatch import dispatch_due
from optiloop.webhooks.outbox import add_delivery, event_body
from optiloop.webhooks.records import DELIVERY, PING
from optiloop.webhooks.subscriptions import load

LOG_FIELDS = (
    "id", "webhook_id", "event_id", "event_type", "status", "attempt_count", "response_code", "error",
    "next_attempt_at", "created_at", "updated_at", "delivered_at", "attempts", "event",
)  # fmt: skip


def view(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.get(k) for k in LOG_FIELDS}


def list_deliveries(
    deps: Deps, who: Principal, webhook_id: str, *, after: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; `after` is the previous page's `next_after`."""
    load(deps, who, webhook_id)
    docs = deps.store.docs.list(DELIVERY, webhook_id, after=after, limit=limit, descending=True)
    return [view(d.data) for d in docs], (docs[-1].sort if len(docs) == limit else None)


def ping(deps: Deps, who: Principal, webhook_id: str) -> dict[str, Any]:
    """Send a `ping` event now, once (no retries), and answer its log entry: what the receiver said."""
    sub = load(deps, who, webhook_id)
    event = event_body(deps, str(sub.data["project_id"]), PING, {"webhook_id": webhook_id, "by": who.name})
    with deps.store.transaction():
        doc = add_delivery(deps, webhook_id, event, max_attempts=1)
    dispatch_due(deps, only=doc.id)
    stored = deps.store.docs.get(DELIVERY, doc.id)
    return view((stored or doc).data)
