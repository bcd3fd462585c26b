"""What `POST /v1/generate` did, seen through the trace it wrote.

Every model call `generate` answers (served, served from the cache, or refused because the *output*
tripped a guardrail) ends in exactly one `trace` document carrying its cost, tokens, cache flag and
whether it was blocked. Decorating `store.docs.create` and reading those documents gives exact
business numbers without parsing responses and without a metrics hook in the core, the same way
`functions/common/observe.py` counts tests and runs for suggest and ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from functions.common.observe import StoreView
from optiloop.deps import Deps
from optiloop.store.ports import DocRepo, Store
from optiloop.store.records import Doc


@dataclass
class TraceTally:
    """Sums over the traces written since the last `reset()` (one invocation: Lambda runs one at a time)."""

    calls: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    cache_hits: int = 0
    blocked: int = 0

    def reset(self) -> None:
        self.calls = self.tokens = self.cache_hits = self.blocked = 0
        self.cost_usd = 0.0

    def add(self, trace: dict[str, Any]) -> None:
        self.calls += 1
        self.cost_usd += float(trace.get("cost_usd") or 0.0)
        if trace.get("cached"):
            self.cache_hits += 1  # a hit's tokens were paid for by the call that filled the cache
        else:
            tokens = trace.get("tokens") or {}
            self.tokens += int(tokens.get("prompt") or 0) + int(tokens.get("completion") or 0)
        if trace.get("blocked"):
            self.blocked += 1


class _TracedDocs:
    """Forwards everything to the wrapped DocRepo; a created `trace` is tallied once it is stored."""

    def __init__(self, inner: DocRepo, tally: TraceTally) -> None:
        self._inner = inner
        self._tally = tally

    def create(self, doc: Doc) -> None:
        self._inner.create(doc)
        if doc.kind == "trace":
            self._tally.add(doc.data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TracedStore(StoreView):
    """The wrapped store, except that trace documents are tallied as they are written."""

    def __init__(self, inner: Store, tally: TraceTally) -> None:
        super().__init__(inner, docs=cast(DocRepo, _TracedDocs(inner.docs, tally)))


def traced(deps: Deps, tally: TraceTally) -> Deps:
    """The same ports with trace writes tallied."""
    return replace(deps, store=TracedStore(deps.store, tally))
