"""One way to call a model, shared by `generate`, evaluations and the judge.

The gateway (catalogue, provider clients, router with its latency statistics) is built once per
process per catalogue file and reused: provider clients hold connection pools, and the router's
observed p95 latencies are only useful if they accumulate across requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from optiloop.deps import Deps
from optiloop.prompts.catalog import Catalog, load_catalog
from optiloop.prompts.providers.port import CompletionRequest, Decoding
from optiloop.prompts.providers.registry import build_providers
from optiloop.prompts.routing import Router, RoutingPolicy
from optiloop.prompts.structured import complete_structured
from optiloop.prompts.tokens import estimate_tokens

DEADLINE_S = 25.0  # one call, retries and fallbacks included: under API Gateway's 29 s


@dataclass
class Gateway:
    catalog: Catalog
    router: Router


@dataclass(frozen=True)
class ModelCall:
    text: str
    model: str
    provider: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    parsed: Any = None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def build_gateway(catalog: Catalog, **router_kw: Any) -> Gateway:
    return Gateway(catalog=catalog, router=Router(catalog, build_providers(catalog), **router_kw))


@lru_cache(maxsize=4)
def _gateway_for(models_file: str | None) -> Gateway:
    return build_gateway(load_catalog(Path(models_file) if models_file else None))


def gateway(deps: Deps) -> Gateway:
    if deps.gateway is None:
        deps.gateway = _gateway_for(str(deps.models_file) if deps.models_file else None)
    return deps.gateway  # type: ignore[no-any-return]


def policy_of(deps: Deps, raw: dict[str, Any] | None) -> RoutingPolicy:
    return RoutingPolicy.from_dict(raw, default_route=gateway(deps).catalog.default_route)


def call_model(
    deps: Deps,
    *,
    prompt: str,
    decoding: Decoding,
    model: str | None = None,
    provider: str | None = None,
    policy: dict[str, Any] | None = None,
    json_mode: bool = False,
    schema: dict[str, Any] | None = None,
    candidates: list[Any] | None = None,
    deadline_s: float | None = DEADLINE_S,
) -> ModelCall:
    """Route, call with retries and fallback, and price the call. Raises UpstreamFailed/Timeout."""
    gw = gateway(deps)
    if candidates is None:
        candidates = gw.router.candidates(
            policy_of(deps, policy), estimate_tokens(prompt), decoding.max_tokens, provider, model
        )
    request = CompletionRequest(
        model="", prompt=prompt, decoding=decoding, json_mode=json_mode or schema is not None
    )
    parsed = None
    if schema is not None:
        routed, parsed, _ = complete_structured(gw.router, request, candidates, schema, deadline_s=deadline_s)
    else:
        routed = gw.router.complete(request, candidates, deadline_s=deadline_s)
    c = routed.completion
    return ModelCall(
        text=c.text,
        model=routed.spec.name,
        provider=routed.spec.provider,
        prompt_tokens=c.prompt_tokens,
        completion_tokens=c.completion_tokens,
        cost_usd=routed.cost_usd,
        latency_ms=c.latency_ms,
        parsed=parsed,
        attempts=[a.as_dict() for a in routed.attempts],
    )
