"""Choosing a model for a request, and getting an answer out of the candidates.

Two steps, kept apart so the caller can look between them (cache keys, traces, a 422 before any
money is spent):

- `Router.candidates` filters the catalogue by the request's policy — worst-case cost (the prompt
  plus max_tokens at the price table), p95 latency, quality, context window — and orders what is
  left cheapest-first or best-first. The p95 is the one observed over a bounded window of recent
  calls once there are enough of them, the catalogue's figure before: a model that has become slow
  stops being chosen for tight latency budgets without anyone editing the file.
- `Router.complete` calls the candidates in order: retryable failures are retried with
  exponential backoff and full jitter (spreads retries of many clients so they do not arrive in
  waves), a non-retryable one moves to the next candidate at once. When every candidate has
  failed, the caller gets 504 if every failure was a timeout and 502 otherwise, with each attempt
  listed (provider messages are already free of secrets; nothing else is added).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput, UpstreamFailed, UpstreamTimeout
from optiloop.prompts.catalog import ROUTES, Catalog, ModelSpec, cost_usd
from optiloop.prompts.providers.port import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderTimeout,
)

log = logging.getLogger(__name__)

_POLICY_FIELDS = ("route", "max_p95_latency_ms", "max_cost_usd", "min_quality")


@dataclass(frozen=True)
class RoutingPolicy:
    route: str = "cost_first"
    max_p95_latency_ms: float | None = None
    max_cost_usd: float | None = None
    min_quality: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, default_route: str = "cost_first") -> RoutingPolicy:
        """Parse a request's `policy` object; every problem is a 422 naming `policy.<field>`."""
        if data is None:
            return cls(route=default_route)
        if not isinstance(data, Mapping):
            raise InvalidInput(
                FieldProblem("policy", "must be an object", hint=f"fields: {', '.join(_POLICY_FIELDS)}")
            )
        problems = [
            FieldProblem(f"policy.{k}", "unknown field", hint=f"fields: {', '.join(_POLICY_FIELDS)}")
            for k in data
            if k not in _POLICY_FIELDS
        ]
        route = data.get("route", default_route)
        if route is None:
            route = default_route
        if route not in ROUTES:
            problems.append(
                FieldProblem("policy.route", f"must be one of {', '.join(ROUTES)}", hint=f"got {route!r}")
            )
        values: dict[str, float | None] = {}
        for name, low, high in (
            ("max_p95_latency_ms", 0.0, math.inf),
            ("max_cost_usd", 0.0, math.inf),
            ("min_quality", 0.0, 1.0),
        ):
            raw = data.get(name)
            if raw is None:
                values[name] = None
            elif isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
                problems.append(FieldProblem(f"policy.{name}", "must be a number", hint=f"got {raw!r}"))
            elif not (low <= raw <= high) or (name != "min_quality" and raw == 0):
                bound = "between 0 and 1" if name == "min_quality" else "greater than 0"
                problems.append(FieldProblem(f"policy.{name}", f"must be {bound}", hint=f"got {raw!r}"))
            else:
                values[name] = float(raw)
        if problems:
            raise InvalidInput(problems)
        return cls(route=str(route), **values)


@dataclass(frozen=True)
class Attempt:
    model: str  # the catalogue's name
    provider: str
    outcome: str  # "ok" | "error" | "timeout"
    error: str | None
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RoutedCompletion:
    completion: Completion
    spec: ModelSpec
    cost_usd: float
    attempts: list[Attempt] = field(default_factory=list)


class Router:
    """Thread-safe; one per process (it keeps the latency observations)."""

    def __init__(
        self,
        catalog: Catalog,
        providers: Mapping[str, Provider],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
        max_retries: int = 2,
        backoff_base_s: float = 0.05,
        backoff_max_s: float = 2.0,
        latency_window: int = 200,
        min_observations: int = 20,
        rng: random.Random | None = None,
    ) -> None:
        self.catalog = catalog
        self.providers = dict(providers)
        self._sleep = sleep
        self._clock = clock
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.min_observations = min_observations
        self._window = latency_window
        self._latencies: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._rng = rng or random.Random()

    @property
    def clock(self) -> Callable[[], float]:
        """The router's clock (seconds), for callers that share its deadline arithmetic."""
        return self._clock

    # -- latency observations ------------------------------------------------------------------

    def observe(self, model: str, latency_ms: float) -> None:
        """Record one call's latency for a catalogue model (the router does this for its own calls)."""
        with self._lock:
            window = self._latencies.get(model)
            if window is None:
                window = self._latencies[model] = deque(maxlen=self._window)
            window.append(latency_ms)

    def observed_p95_ms(self, model: str) -> float | None:
        """p95 of the recent window (nearest rank), or None until `min_observations` calls."""
        with self._lock:
            window = self._latencies.get(model)
            values = sorted(window) if window else []
        if len(values) < max(1, self.min_observations):
            return None
        return values[max(0, math.ceil(0.95 * len(values)) - 1)]

    def p95_ms(self, spec: ModelSpec) -> float:
        observed = self.observed_p95_ms(spec.name)
        return spec.p95_latency_ms if observed is None else observed

    # -- choosing --------------------------------------------------------------------------------

    def candidates(
        self,
        policy: RoutingPolicy,
        prompt_tokens: int,
        max_tokens: int,
        provider: str | None = None,
        model: str | None = None,
    ) -> list[ModelSpec]:
        """The models that satisfy the policy, best first; InvalidInput (422) if there are none."""
        pool = [m for m in self.catalog.models if m.provider in self.providers]
        if provider is not None:
            if provider not in self.providers:
                raise InvalidInput(
                    FieldProblem(
                        "provider",
                        f"unknown provider {provider!r}",
                        hint=f"one of: {', '.join(self.providers)}",
                    )
                )
            pool = [m for m in pool if m.provider == provider]
        if model is not None:
            named = [m for m in pool if model in (m.name, m.model_id)]
            if not named:
                known = ", ".join(m.name for m in pool) or "none"
                where = f" from provider {provider!r}" if provider else ""
                raise InvalidInput(
                    FieldProblem("model", f"unknown model {model!r}{where}", hint=f"one of: {known}")
                )
            pool = named
        kept: list[tuple[ModelSpec, float]] = []
        excluded: list[dict[str, Any]] = []
        for spec in pool:
            est = cost_usd(spec, prompt_tokens, max_tokens)
            why = self._exclusion(spec, policy, prompt_tokens, max_tokens, est)
            if why is None:
                kept.append((spec, est))
            else:
                excluded.append({"model": spec.name, **why})
        if not kept:
            summary = "; ".join(_describe(e) for e in excluded)
            raise InvalidInput(
                FieldProblem(
                    "policy",
                    "no model satisfies the policy"
                    + (f" ({summary})" if summary else " (no models configured)"),
                    hint="relax max_cost_usd, max_p95_latency_ms or min_quality, or lower max_tokens",
                    extra={"excluded": excluded},
                )
            )
        if policy.route == "quality_first":
            kept.sort(key=lambda x: (-x[0].quality, x[1], self.p95_ms(x[0]), x[0].name))
        else:
            kept.sort(key=lambda x: (x[1], -x[0].quality, self.p95_ms(x[0]), x[0].name))
        return [spec for spec, _ in kept]

    def _exclusion(
        self, spec: ModelSpec, policy: RoutingPolicy, prompt_tokens: int, max_tokens: int, est_cost: float
    ) -> dict[str, Any] | None:
        if prompt_tokens + max_tokens > spec.context_tokens:
            return {
                "constraint": "context_tokens",
                "value": prompt_tokens + max_tokens,
                "limit": spec.context_tokens,
            }
        if policy.max_cost_usd is not None and est_cost > policy.max_cost_usd:
            return {"constraint": "max_cost_usd", "value": est_cost, "limit": policy.max_cost_usd}
        p95 = self.p95_ms(spec)
        if policy.max_p95_latency_ms is not None and p95 > policy.max_p95_latency_ms:
            return {"constraint": "max_p95_latency_ms", "value": p95, "limit": policy.max_p95_latency_ms}
        if policy.min_quality is not None and spec.quality < policy.min_quality:
            return {"constraint": "min_quality", "value": spec.quality, "limit": policy.min_quality}
        return None

    # -- calling ---------------------------------------------------------------------------------

    def complete(
        self,
        request_template: CompletionRequest,
        candidates: list[ModelSpec],
        *,
        deadline_s: float | None = None,
    ) -> RoutedCompletion:
        """Try the candidates in order (the template's `model` is replaced by each one's model_id).

        `deadline_s` bounds the whole call, retries and fallbacks included: each try's timeout is
        cut to what is left and nothing starts once it is spent (API Gateway gives up at 29 s).
        """
        attempts: list[Attempt] = []
        begun = self._clock()
        for spec in candidates:
            provider = self.providers.get(spec.provider)
            if provider is None:
                attempts.append(Attempt(spec.name, spec.provider, "error", "provider not configured", 0.0))
                continue
            retries = self._retries_for(spec.provider)
            for n in range(retries + 1):
                timeout_s = request_template.timeout_s
                if deadline_s is not None:
                    left = deadline_s - (self._clock() - begun)
                    if left <= 0:
                        attempts.append(
                            Attempt(spec.name, spec.provider, "timeout", "the deadline was spent", 0.0)
                        )
                        raise _all_failed(attempts)
                    timeout_s = min(timeout_s, left)
                request = dataclasses.replace(request_template, model=spec.model_id, timeout_s=timeout_s)
                completion, exc = self._try(provider, spec, request, attempts)
                if completion is not None:
                    cost = cost_usd(spec, completion.prompt_tokens, completion.completion_tokens)
                    return RoutedCompletion(
                        completion=completion, spec=spec, cost_usd=cost, attempts=attempts
                    )
                if exc is None or not exc.retryable or n == retries:
                    break
                delay = self._backoff(n, getattr(exc, "retry_after_s", None))
                if delay is None:  # the provider asks for a longer pause than we would wait
                    break
                if deadline_s is not None:
                    delay = min(delay, max(0.0, deadline_s - (self._clock() - begun)))
                self._sleep(delay)
        raise _all_failed(attempts)

    def _try(
        self, provider: Provider, spec: ModelSpec, request: CompletionRequest, attempts: list[Attempt]
    ) -> tuple[Completion | None, ProviderError | None]:
        """One call, recorded in `attempts`: (completion, None), (None, provider error) or (None, None)."""
        started = self._clock()
        try:
            completion = provider.complete(request)
        except ProviderError as exc:
            latency_ms = (self._clock() - started) * 1000
            timed_out = isinstance(exc, ProviderTimeout)
            if timed_out:
                self.observe(spec.name, latency_ms)  # slowness is information too
            outcome = "timeout" if timed_out else "error"
            attempts.append(Attempt(spec.name, spec.provider, outcome, _message(exc), latency_ms))
            return None, exc
        except Exception as exc:  # an adapter bug must not take the fallback down with it
            log.exception("provider %s raised %s", spec.provider, type(exc).__name__)
            latency_ms = (self._clock() - started) * 1000
            error = f"unexpected {type(exc).__name__}"
            attempts.append(Attempt(spec.name, spec.provider, "error", error, latency_ms))
            return None, None
        latency_ms = (self._clock() - started) * 1000
        self.observe(spec.name, latency_ms)
        attempts.append(Attempt(spec.name, spec.provider, "ok", None, latency_ms))
        return completion, None

    def _retries_for(self, provider: str) -> int:
        try:
            configured = self.catalog.provider(provider).max_retries
        except KeyError:
            configured = None
        return self.max_retries if configured is None else configured

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float | None:
        """Full jitter: uniform(0, min(cap, base * 2**attempt)); at least a provider's Retry-After."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        delay = self._rng.uniform(0, ceiling)
        if retry_after_s is not None:
            if retry_after_s > self.backoff_max_s:
                return None
            delay = max(delay, retry_after_s)
        return delay


def _all_failed(attempts: list[Attempt]) -> UpstreamFailed:
    """504 when every attempt timed out, 502 otherwise; each attempt in the details."""
    details = [
        {
            "field": f"attempts[{i}]",
            "reason": f"{a.model} via {a.provider}: {a.outcome}" + (f" ({a.error})" if a.error else ""),
            **a.as_dict(),
        }
        for i, a in enumerate(attempts)
    ]
    if attempts and all(a.outcome == "timeout" for a in attempts):
        return UpstreamTimeout(f"every model timed out ({len(attempts)} attempts)", details=details)
    summary = f"every model failed ({len(attempts)} attempts)" if attempts else "no candidate models"
    return UpstreamFailed(summary, details=details)


def _describe(excluded: Mapping[str, Any]) -> str:
    c, value, limit = excluded["constraint"], excluded["value"], excluded["limit"]
    if c == "min_quality":
        return f"{excluded['model']}: quality {value:g} < min_quality {limit:g}"
    if c == "context_tokens":
        return f"{excluded['model']}: prompt + max_tokens = {value} > context window {limit}"
    return f"{excluded['model']}: {c.removeprefix('max_')} {value:.6g} > {c} {limit:g}"


def _message(exc: ProviderError) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
