"""High-rate audit events: recorded as plain data, sealed into the trail in batches.

Decisions, feedback, inference, generate traces and heartbeat-like updates happen far more often
than anyone reads them one by one, and must never wait on a chain. For them:

    deps.store.audit.record_event(principal=..., action="decision.served", project_id=pid,
                                  target=experiment_id, details={...})   # returns at once

`record_event` takes the arguments of `append` and only adds the event to an in-memory batch of its
shard (O(1), no I/O). A batch is sealed - one ordinary `append` of an ``audit.events`` record whose
details hold the events, their count, time span and Merkle root - when it reaches `max_events` or
`max_bytes`, when its oldest event is `max_age_s` old (checked on every call and by a background
timer), on `flush_events()`, and at interpreter exit. So a thousand events cost one chain append,
each event is still hashed into the trail, and one event can later be proven by its Merkle path.

What it does not promise: an event recorded by a process that dies before the seal is lost. Paths
that must not lose a record call `flush_events()` before answering (a Lambda handler: at the end of
each invocation; it costs nothing when no event is pending), or use `append`.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optiloop.audit.chain import canonical_json, new_audit_id, utc_now_ms
from optiloop.audit.shards import project_of, shard_of

if TYPE_CHECKING:
    from optiloop.store.ports import AuditRepo

log = logging.getLogger("optiloop.audit")

SEALED_ACTION = "audit.events"
MAX_EVENTS = 500
MAX_BYTES = 256 * 1024  # well inside DynamoDB's 400 KB item, with the record's own fields
MAX_AGE_S = 1.0


def event_leaf(event: dict[str, Any]) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json(event).encode("utf-8")).digest()


def events_root(events: list[dict[str, Any]]) -> str:
    from optiloop.audit.merkle import _root

    return _root([event_leaf(e) for e in events]).hex() if events else hashlib.sha256(b"").hexdigest()


@dataclass
class _Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    opened: float = 0.0


class EventBatcher:
    """Per-shard batches of one audit repository; thread-safe."""

    def __init__(
        self,
        audit: AuditRepo,
        *,
        max_events: int = MAX_EVENTS,
        max_bytes: int = MAX_BYTES,
        max_age_s: float = MAX_AGE_S,
        timer: bool = True,
    ) -> None:
        self._audit = weakref.ref(audit)
        self.max_events, self.max_bytes, self.max_age_s = max_events, max_bytes, max_age_s
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        self._stop = threading.Event()
        if timer:
            t = threading.Thread(target=self._tick, name="optiloop-audit-events", daemon=True)
            t.start()
        atexit.register(self.flush)

    def record(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> str:
        """Add one event; returns its id (what a caller may quote to find it in its sealed batch)."""
        for name, value in (("principal", principal), ("action", action)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"audit event {name} must be a non-empty string")
        event = {
            "id": "evt_" + new_audit_id()[4:],
            "at": utc_now_ms(),
            "principal": principal,
            "action": action,
            "target": target,
            "details": details,
        }
        text = canonical_json(event)  # refuses what could not be hashed, here and not at seal time
        shard = shard_of(project_id)
        full: _Batch | None = None
        with self._lock:
            b = self._batches.get(shard)
            if b is None:
                b = self._batches[shard] = _Batch(opened=time.monotonic())
            b.events.append(event)
            b.size += len(text)
            if (
                len(b.events) >= self.max_events
                or b.size >= self.max_bytes
                or time.monotonic() - b.opened >= self.max_age_s
            ):
                full = self._batches.pop(shard)
        if full is not None:
            self._seal(shard, full)
        return str(event["id"])

    def flush(self) -> int:
        """Seal every pending batch now; returns how many events were sealed."""
        with self._lock:
            batches, self._batches = self._batches, {}
        for shard, b in batches.items():
            self._seal(shard, b)
        return sum(len(b.events) for b in batches.values())

    def close(self) -> None:
        self._stop.set()
        self.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.max_age_s / 2):
            now = time.monotonic()
            with self._lock:
                due = [s for s, b in self._batches.items() if now - b.opened >= self.max_age_s]
                batches = [(s, self._batches.pop(s)) for s in due]
            for shard, b in batches:
                try:
                    self._seal(shard, b)
                except Exception:  # the timer must survive a store outage; the events are logged lost
                    log.exception("could not seal %d audit events of %s", len(b.events), shard)

    def _seal(self, shard: str, b: _Batch) -> None:
        audit = self._audit()
        if audit is None or not b.events:
            return
        actions: dict[str, int] = {}
        for e in b.events:
            actions[e["action"]] = actions.get(e["action"], 0) + 1
        audit.append(
            principal="optiloop-events",
            action=SEALED_ACTION,
            project_id=project_of(shard),
            target=None,
            details={
                "count": len(b.events),
                "first_at": b.events[0]["at"],
                "last_at": b.events[-1]["at"],
                "root": events_root(b.events),
                "actions": actions,
                "events": b.events,
            },
        )
