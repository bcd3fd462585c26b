"""dispatch_due(): send the deliveries that are due, record every attempt, publish to EventBridge.

Run every few seconds by `optiloop serve`'s in-process scheduler and every minute by the scheduled
`webhook_dispatch` Lambda on AWS. A tick:

1. reads the due index (`webhook_due`, one Query, oldest first) up to `now`;
2. claims each item by moving it LEASE_S into the future with a rev-guarded replace, so two
   dispatchers (overlapping ticks, two processes) never send the same attempt twice; one that dies
   after claiming leaves the item due again when the lease runs out;
3. sends the claimed deliveries in parallel (httpx, `optiloop.webhooks.send`), store access staying
   on the calling thread;
4. records each attempt in the delivery (the log) and moves or removes its index item, in one
   transaction: 2xx is delivered; anything else is retried after BASE_S * FACTOR**(n-1) seconds
   with ±20% jitter (80 s, 4 min, 12 min, 36 min, 1.8 h, 5.4 h, 16 h: ~24 h in all) until
   MAX_ATTEMPTS, then failed. A delivery whose subscription is gone is cancelled, not sent.

Then, where the deployment publishes to EventBridge, the bus outbox is put (`optiloop.webhooks.bus`).
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from optiloop.deps import Deps
from optiloop.errors import Conflict, NotFound
from optiloop.store.records import Doc
from optiloop.webhooks import send
from optiloop.webhooks.bus import EventBus, bus_from_env
from optiloop.webhooks.records import (
    BUS,
    BUS_SCOPE,
    CANCELLED,
    DELIVERED,
    DELIVERY,
    DUE,
    DUE_SCOPE,
    FAILED,
    WEBHOOK,
    epoch,
    iso,
)

log = logging.getLogger("optiloop.webhooks")
MAX_ATTEMPTS = 8
BASE_S = 80.0
FACTOR = 3.0
JITTER = 0.2
LEASE_S = 300.0  # longer than the dispatch function runs, so a claim outlives its tick
PER_TICK = 100
WORKERS = 8

_rng = random.Random()


def retry_delay_s(attempts_made: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after `attempts_made` failed ones (exponential, jittered)."""
    base = BASE_S * FACTOR ** (attempts_made - 1)
    return base * (1.0 + JITTER * (2.0 * (rng or _rng).random() - 1.0))


@dataclass
class _Claimed:
    due: Doc
    delivery: Doc
    sub: Doc | None


def _claim(deps: Deps, due: Doc, now: str) -> Doc | None:
    until = iso(epoch(now) + LEASE_S)
    try:
        return deps.store.docs.replace(
            Doc(DUE, due.id, DUE_SCOPE, f"{until}|{due.id}", due.data, expires_at=due.expires_at), due.rev
        )
    except (Conflict, NotFound):
        return None  # another dispatcher has it, or it was just finished


def _due_now(deps: Deps, now: str, limit: int, only: str | None = None) -> list[Doc]:
    if only is not None:
        doc = deps.store.docs.get(DUE, only)
        return [doc] if doc is not None else []
    return [d for d in deps.store.docs.list(DUE, DUE_SCOPE, limit=limit) if d.sort.split("|", 1)[0] <= now]


def _claim_all(deps: Deps, now: str, limit: int, only: str | None) -> list[_Claimed]:
    claimed = [c for d in _due_now(deps, now, limit, only) if (c := _claim(deps, d, now)) is not None]
    deliveries = deps.store.docs.get_many(DELIVERY, [c.id for c in claimed])
    subs = deps.store.docs.get_many(WEBHOOK, list({str(d.data["webhook_id"]) for d in deliveries.values()}))
    out = []
    for due in claimed:
        delivery = deliveries.get(due.id)
        if delivery is None:  # expired or removed: the index item has nothing left to send
            deps.store.docs.delete(DUE, due.id)
            continue
        sub = subs.get(str(delivery.data["webhook_id"]))
        out.append(
            _Claimed(due, delivery, sub if sub and sub.data.get("status", "active") == "active" else None)
        )
    return out


def _record(deps: Deps, c: _Claimed, now: str, outcome: send.Outcome | None) -> str:
    """Write the attempt (or the cancellation) and move or drop the index item; the new status."""
    d = dict(c.delivery.data)
    n = int(d.get("attempt_count", 0))
    if outcome is None:
        status, next_at = CANCELLED, None
        d["error"] = "the webhook was deleted"
    else:
        n += 1
        d["attempts"] = [
            *d.get("attempts", []),
            {
                "n": n,
                "at": now,
                "response_code": outcome.response_code,
                "error": outcome.error,
                "duration_ms": outcome.duration_ms,
            },
        ]
        d["attempt_count"], d["response_code"], d["error"] = n, outcome.response_code, outcome.error
        if outcome.ok:
            status, next_at = DELIVERED, None
            d["delivered_at"] = now
        elif n >= int(d.get("max_attempts", MAX_ATTEMPTS)):
            status, next_at = FAILED, None
        else:
            status, next_at = "pending", iso(epoch(now) + retry_delay_s(n))
    d["status"], d["next_attempt_at"], d["updated_at"] = status, next_at, now
    with deps.store.transaction():
        deps.store.docs.replace(
            Doc(
                DELIVERY,
                c.delivery.id,
                c.delivery.scope,
                c.delivery.sort,
                d,
                expires_at=c.delivery.expires_at,
            ),
            c.delivery.rev,
        )
        if next_at is None:
            deps.store.docs.delete(DUE, c.due.id)
        else:
            deps.store.docs.replace(
                Doc(
                    DUE, c.due.id, DUE_SCOPE, f"{next_at}|{c.due.id}", c.due.data, expires_at=c.due.expires_at
                ),
                c.due.rev,
            )
    return status


def _send_all(claimed: list[_Claimed], client: httpx.Client | None) -> list[send.Outcome]:
    def one(c: _Claimed) -> send.Outcome:
        assert c.sub is not None
        return send.attempt(str(c.sub.data["url"]), str(c.sub.data["secret"]), c.delivery.data["event"],
                            c.delivery.id, client)  # fmt: skip

    if len(claimed) <= 1:
        return [one(c) for c in claimed]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(claimed)), thread_name_prefix="webhook") as pool:
        return list(pool.map(one, claimed))


def dispatch_due(
    deps: Deps,
    now: str | None = None,
    *,
    bus: EventBus | None = None,
    client: httpx.Client | None = None,
    limit: int = PER_TICK,
    only: str | None = None,
) -> dict[str, Any]:
    """Send what is due at `now` (default: the clock); `only`: that one delivery, due or not (ping).
    `bus`: where EventBridge events go (default: OPTILOOP_EVENT_BUS's bus, or none)."""
    now = now or deps.clock()
    summary: dict[str, Any] = {"sent": 0, "delivered": 0, "retrying": 0, "failed": 0, "cancelled": 0}
    claimed = _claim_all(deps, now, limit, only)
    cancelled = [c for c in claimed if c.sub is None]
    live = [c for c in claimed if c.sub is not None]
    own = client is None and len(live) > 0
    http = client or (httpx.Client(timeout=send.TIMEOUT_S, follow_redirects=False) if live else None)
    try:
        outcomes = _send_all(live, http)
    finally:
        if own and http is not None:
            http.close()
    summary["sent"] = len(live)
    for c, outcome in [(c, None) for c in cancelled] + list(zip(live, outcomes, strict=True)):
        try:
            status = _record(deps, c, now, outcome)
        except (Conflict, NotFound) as e:  # changed meanwhile: its lease runs out and it is due again
            log.warning("webhook delivery %s not recorded: %s", c.delivery.id, e)
            continue
        summary["retrying" if status == "pending" else status] += 1
    if only is None:
        summary["bus_published"] = publish_bus(deps, bus if bus is not None else bus_from_env())
    return summary


def publish_bus(deps: Deps, bus: EventBus | None, limit: int = PER_TICK) -> int:
    """Put the bus outbox on EventBridge; what the bus accepted leaves the outbox, the rest waits."""
    if bus is None:
        return 0
    pending = deps.store.docs.list(BUS, BUS_SCOPE, limit=limit)
    if not pending:
        return 0
    accepted = bus.put([d.data["event"] for d in pending])
    n = 0
    for doc, ok in zip(pending, accepted, strict=False):
        if ok:
            deps.store.docs.delete(BUS, doc.id)
            n += 1
    return n
