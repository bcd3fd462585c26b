"""What the learned suggestion policies share: finding the version a project's model holds at an
alias, and a per-process cache of the answer.

Both learned policies (the trained failure surrogate, `surrogate/trained.py`, and the RL generator,
`rl/registered.py`) are a project model with a fixed name whose `production` alias, else `staging`,
names the version the engine uses. The suggest path must not pay store reads for that on every call,
so the answer — including "there is none" — is cached per process for a few seconds: a promotion
takes effect within the TTL, and a version that cannot be loaded reads as none (logged), never as
an error in suggest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from optiloop.deps import Deps
from optiloop.store.records import Doc

ALIASES = ("production", "staging")
TTL_S = 30.0
MAX_PROJECTS = 256

T = TypeVar("T")


@dataclass(frozen=True)
class Held:
    """The model document, the alias that led to the version, and the version's stored data."""

    model: Doc
    alias: str
    version: dict[str, Any]


def held_version(
    deps: Deps, project_id: str, model_name: str, aliases: tuple[str, ...] = ALIASES
) -> Held | None:
    """The version at the first of `aliases` that the project's model `model_name` holds; None when
    the model, the alias or the version is missing, or the version is archived."""
    claim = deps.store.docs.get("model_name", f"{project_id}/{model_name}")
    model = deps.store.docs.get("model", claim.data["id"]) if claim else None
    if model is None:
        return None
    held = model.data.get("aliases") or {}
    alias = next((a for a in aliases if a in held), None)
    if alias is None:
        return None
    vdoc = deps.store.docs.get("model_version", held[alias])
    if vdoc is None or vdoc.data.get("status") == "Archived":
        return None
    return Held(model=model, alias=alias, version=vdoc.data)


class LookupCache(Generic[T]):
    """Per-process answers by (store, project) for `ttl_s` seconds, the least recently used dropped
    beyond `max_projects`. `get` never raises: a failing lookup is logged and cached as None."""

    def __init__(
        self, what: str, log: logging.Logger, ttl_s: float = TTL_S, max_projects: int = MAX_PROJECTS
    ):
        self.what, self.log, self.ttl_s, self.max_projects = what, log, ttl_s, max_projects
        self._entries: OrderedDict[str, tuple[float, T | None]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(
        self, deps: Deps, project_id: str, lookup: Callable[[Deps, str], T | None], now: float | None = None
    ) -> T | None:
        t = time.monotonic() if now is None else now
        key = f"{id(deps.store)}:{project_id}"
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and t - hit[0] < self.ttl_s:
                return hit[1]
        try:
            found = lookup(deps, project_id)
        except Exception:  # a missing artifact, a hash mismatch: suggest goes on without it
            self.log.exception(
                "the %s of project %s could not be loaded; suggesting without it", self.what, project_id
            )
            found = None
        with self._lock:
            self._entries[key] = (t, found)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_projects:
                self._entries.popitem(last=False)
        return found
