"""Webhooks: a platform facility every capability emits events into.

A capability calls `emit(deps, project_id, event_type, data)` inside the transaction of the change
the event reports (`outbox`); the dispatcher (`dispatch.dispatch_due`) sends due deliveries, signed
(`signing`), to URLs that pass the SSRF rules at creation and at send time (`urls`), retries with
backoff and keeps every attempt in the delivery log; on AWS it also puts every event on the default
EventBridge bus (`bus`). Subscriptions are documents (`subscriptions`); docs/webhooks.md is the guide.
"""

from __future__ import annotations

from typing import Any

from optiloop.webhooks.outbox import emit
from optiloop.webhooks.records import EVENT_TYPES

__all__ = ["EVENT_TYPES", "dispatch_due", "emit"]


def __getattr__(name: str) -> Any:
    """`dispatch_due` on first use: the hot paths that only emit never import httpx."""
    if name == "dispatch_due":
        from optiloop.webhooks.dispatch import dispatch_due

        return dispatch_due
    raise AttributeError(name)
