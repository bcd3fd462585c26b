"""EventBridge: every event also goes to the account's default event bus on AWS.

So AWS users can route OptiLoop events (to SNS, Step Functions, another account) with rules instead
of running a webhook receiver. The entries' `source` is ``optiloop.<tenant>``, their `detail-type`
the event type and their `detail` the event body a webhook receives. Where OPTILOOP_EVENT_BUS is set
(the CDK sets it to ``default`` on the functions that emit and on the dispatcher) every event is kept
for the bus in the outbox, whether or not the project has webhooks; the dispatcher puts them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Protocol

BUS_ENV = "OPTILOOP_EVENT_BUS"
TENANT_ENV = "OPTILOOP_TENANT"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries a call


def bus_enabled() -> bool:
    return bool(os.environ.get(BUS_ENV, "").strip())


class EventBus(Protocol):
    def put(self, events: Sequence[dict[str, Any]]) -> list[bool]:
        """Publish event bodies; True per event that the bus accepted."""
        ...


class EventBridgeBus:
    """PutEvents on one bus (boto3 is imported on first use: only the dispatcher needs it)."""

    def __init__(self, bus_name: str, tenant: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.source = f"optiloop.{tenant or 'local'}"
        self._client = client

    def _events(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def put(self, events: Sequence[dict[str, Any]]) -> list[bool]:
        ok: list[bool] = []
        for i in range(0, len(events), MAX_ENTRIES):
            chunk = events[i : i + MAX_ENTRIES]
            resp = self._events().put_events(
                Entries=[
                    {
                        "Source": self.source,
                        "DetailType": str(e["type"]),
                        "Detail": json.dumps(e, separators=(",", ":")),
                        "EventBusName": self.bus_name,
                        "Resources": [],
                    }
                    for e in chunk
                ]
            )
            ok += ["ErrorCode" not in entry for entry in resp.get("Entries", [])]
        return ok


def bus_from_env() -> EventBus | None:
    name = os.environ.get(BUS_ENV, "").strip()
    return EventBridgeBus(name, os.environ.get(TENANT_ENV, "")) if name else None
