"""Webhook subscriptions: create (the signing secret is shown once), list, get, delete.

Webhooks are project administration (they send project data to an address outside the platform and
their URLs often carry a token of the receiver), so every call needs `project.update` on the project.

Emission on the ingest and suggest hot paths asks `targets_of` which subscriptions a project has; the
answer is cached per process for CACHE_TTL_S, so a project without webhooks costs one Query per TTL,
not one per request. Creating or deleting a subscription clears this process's entry at once; other
processes see it within the TTL (a delivery emitted meanwhile for a deleted subscription is cancelled
by the dispatcher, which reads the subscription before every send).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.store.records import Doc
from optiloop.webhooks import urls
from optiloop.webhooks.bus import bus_enabled
from optiloop.webhooks.records import (
    DEFAULT_ACCURACY_THRESHOLD,
    DEFAULT_PLATEAU_RUNS,
    EVENT_TYPES,
    WEBHOOK,
)

MANAGE = Action.PROJECT_UPDATE
CACHE_TTL_S = 15.0
MAX_CACHED_PROJECTS = 1024
MAX_PER_PROJECT = 20
MAX_DESCRIPTION = 500
MAX_PLATEAU_RUNS = 1_000_000


@dataclass(frozen=True)
class Target:
    """Where a project's events go: one subscription, or the tenant's EventBridge bus (key "bus")."""

    key: str
    events: frozenset[str]
    plateau_runs: int = DEFAULT_PLATEAU_RUNS
    accuracy_threshold: float = DEFAULT_ACCURACY_THRESHOLD

    @property
    def is_bus(self) -> bool:
        return self.key == "bus"


BUS_TARGET = Target("bus", frozenset(EVENT_TYPES))


def public(data: dict[str, Any]) -> dict[str, Any]:
    """A subscription as every read shows it: without its secret."""
    return {k: v for k, v in data.items() if k != "secret"}


def _check(events: Iterable[Any], description: str, plateau_runs: Any, threshold: Any) -> list[str]:
    probs: list[FieldProblem] = []
    chosen = list(dict.fromkeys(events))
    if not chosen:
        probs.append(FieldProblem("events", "name at least one event type", hint=", ".join(EVENT_TYPES)))
    for i, e in enumerate(chosen):
        if e not in EVENT_TYPES:
            probs.append(
                FieldProblem(f"events[{i}]", f"unknown event type {e!r}", hint=", ".join(EVENT_TYPES))
            )
    if len(description) > MAX_DESCRIPTION:
        probs.append(FieldProblem("description", f"at most {MAX_DESCRIPTION} characters"))
    if (
        isinstance(plateau_runs, bool)
        or not isinstance(plateau_runs, int)
        or not (1 <= plateau_runs <= MAX_PLATEAU_RUNS)
    ):
        probs.append(FieldProblem("plateau_runs", f"must be an integer 1..{MAX_PLATEAU_RUNS}"))
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
        or not 0.0 < threshold <= 1.0
    ):
        probs.append(FieldProblem("accuracy_threshold", "must be a number in (0, 1]"))
    if probs:
        raise InvalidInput(probs)
    return [str(e) for e in chosen]


def create(
    deps: Deps,
    who: Principal,
    project_id: str,
    url: str,
    events: Iterable[str],
    *,
    description: str = "",
    plateau_runs: int = DEFAULT_PLATEAU_RUNS,
    accuracy_threshold: float = DEFAULT_ACCURACY_THRESHOLD,
) -> dict[str, Any]:
    """A new active subscription; the answer alone holds the signing secret."""
    authorize(who, MANAGE, project_id)
    chosen = _check(events, description, plateau_runs, accuracy_threshold)
    urls.validate(url)  # a 422 naming `url`
    get_project(deps, project_id)
    if len(deps.store.docs.list(WEBHOOK, project_id, limit=MAX_PER_PROJECT + 1)) >= MAX_PER_PROJECT:
        raise InvalidInput(FieldProblem("project_id", f"at most {MAX_PER_PROJECT} webhooks per project"))
    now = deps.clock()
    sub_id = deps.ids("whk")
    data: dict[str, Any] = {
        "id": sub_id,
        "project_id": project_id,
        "url": url,
        "events": chosen,
        "description": description,
        "plateau_runs": int(plateau_runs),
        "accuracy_threshold": float(accuracy_threshold),
        "status": "active",
        "created_at": now,
        "created_by": who.name,
        "secret": "whsec_" + secrets.token_urlsafe(32),
    }
    with deps.store.transaction():
        deps.store.docs.create(Doc(WEBHOOK, sub_id, project_id, f"{now}|{sub_id}", data))
        record(deps, who, "webhook.created", project_id, sub_id, {"url": url, "events": chosen})
    forget(deps, project_id)
    return data


def load(deps: Deps, who: Principal, webhook_id: str) -> Doc:
    doc = deps.store.docs.require(WEBHOOK, webhook_id, field="webhook_id", what="webhook")
    authorize(who, MANAGE, str(doc.data["project_id"]))
    return doc


def get(deps: Deps, who: Principal, webhook_id: str) -> dict[str, Any]:
    return public(load(deps, who, webhook_id).data)


def list_for(
    deps: Deps, who: Principal, project_id: str, *, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    authorize(who, MANAGE, project_id)
    get_project(deps, project_id)
    docs = deps.store.docs.list(WEBHOOK, project_id, after=after, limit=limit)
    return [public(d.data) for d in docs], (docs[-1].sort if len(docs) == limit else None)


def delete(deps: Deps, who: Principal, webhook_id: str) -> None:
    """Delete the subscription; its pending deliveries are cancelled by the dispatcher and its log
    expires with its deliveries."""
    doc = load(deps, who, webhook_id)
    project_id = str(doc.data["project_id"])
    with deps.store.transaction():
        deps.store.docs.delete(WEBHOOK, webhook_id)
        record(deps, who, "webhook.deleted", project_id, webhook_id, {"url": doc.data["url"]})
    forget(deps, project_id)


# -- the per-process cache the hot paths read ---------------------------------------------------

_cache: OrderedDict[tuple[int, str], tuple[float, tuple[Target, ...]]] = OrderedDict()
_lock = threading.Lock()


def forget(deps: Deps | None = None, project_id: str | None = None) -> None:
    """Drop a project's cached targets (None: every project's)."""
    with _lock:
        if deps is None or project_id is None:
            _cache.clear()
        else:
            _cache.pop((id(deps.store), project_id), None)


def _load_targets(deps: Deps, project_id: str) -> tuple[Target, ...]:
    found = [
        Target(
            key=d.id,
            events=frozenset(d.data.get("events") or ()),
            plateau_runs=int(d.data.get("plateau_runs", DEFAULT_PLATEAU_RUNS)),
            accuracy_threshold=float(d.data.get("accuracy_threshold", DEFAULT_ACCURACY_THRESHOLD)),
        )
        for d in deps.store.docs.list(WEBHOOK, project_id, limit=MAX_PER_PROJECT)
        if d.data.get("status", "active") == "active"
    ]
    return tuple(found)


def targets_of(deps: Deps, project_id: str, *, now: float | None = None) -> tuple[Target, ...]:
    """The project's active subscriptions (cached, see the module docstring), plus the EventBridge
    bus where the deployment publishes to one."""
    t = time.monotonic() if now is None else now
    key = (id(deps.store), project_id)
    with _lock:
        hit = _cache.get(key)
    if hit is None or t - hit[0] >= CACHE_TTL_S:
        subs = _load_targets(deps, project_id)
        with _lock:
            _cache[key] = (t, subs)
            _cache.move_to_end(key)
            while len(_cache) > MAX_CACHED_PROJECTS:
                _cache.popitem(last=False)
    else:
        subs = hit[1]
    return (*subs, BUS_TARGET) if bus_enabled() else subs


def wants(targets: Iterable[Target], *event_types: str) -> bool:
    return any(e in t.events for t in targets for e in event_types)
