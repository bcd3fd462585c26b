"""Routing: policy parsing, candidate choice and order, retries, fallback and the 502/504 split."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from optiloop.errors import InvalidInput, UpstreamFailed, UpstreamTimeout
from optiloop.prompts.catalog import BUILTIN, Catalog, ModelSpec, ProviderConfig, cost_usd
from optiloop.prompts.providers.deterministic import DeterministicProvider
from optiloop.prompts.providers.port import CompletionRequest, ProviderError, ProviderTimeout
from optiloop.prompts.providers.registry import build_providers
from optiloop.prompts.routing import Router, RoutingPolicy

# -- policy ----------------------------------------------------------------------------------------


def test_policy_defaults_and_values() -> None:
    assert RoutingPolicy.from_dict(None) == RoutingPolicy(route="cost_first")
    assert RoutingPolicy.from_dict(None, default_route="quality_first").route == "quality_first"
    p = RoutingPolicy.from_dict({"route": "quality_first", "max_p95_latency_ms": 800, "max_cost_usd": 0.01,
                                 "min_quality": 0.5})  # fmt: skip
    assert p == RoutingPolicy("quality_first", 800.0, 0.01, 0.5)


def test_policy_problems_name_their_fields() -> None:
    with pytest.raises(InvalidInput) as info:
        RoutingPolicy.from_dict(
            {
                "route": "fastest",
                "max_cost_usd": -1,
                "min_quality": 2,
                "max_p95_latency_ms": "fast",
                "colour": 1,
            }
        )
    fields = {d["field"] for d in info.value.details}
    assert fields == {
        "policy.route",
        "policy.max_cost_usd",
        "policy.min_quality",
        "policy.max_p95_latency_ms",
        "policy.colour",
    }
    with pytest.raises(InvalidInput, match="policy: must be an object"):
        RoutingPolicy.from_dict([1, 2])  # type: ignore[arg-type]


# -- candidates ------------------------------------------------------------------------------------


def _builtin_router(**kw: Any) -> Router:
    return Router(BUILTIN, build_providers(BUILTIN), **kw)


def test_cost_first_and_quality_first_orders() -> None:
    r = _builtin_router()
    cheap = r.candidates(RoutingPolicy("cost_first"), prompt_tokens=100, max_tokens=100)
    best = r.candidates(RoutingPolicy("quality_first"), prompt_tokens=100, max_tokens=100)
    assert [m.name for m in cheap] == ["det-echo-small", "det-json", "det-echo-large"]
    assert [m.name for m in best] == ["det-echo-large", "det-json", "det-echo-small"]


def test_constraints_filter() -> None:
    r = _builtin_router()
    assert [m.name for m in r.candidates(RoutingPolicy(min_quality=0.5), 100, 100)] == [
        "det-json",
        "det-echo-large",
    ]
    # worst case 1000 + 1000 tokens: small 0.0005 USD, json 0.002, large 0.0125
    cheap = r.candidates(RoutingPolicy(max_cost_usd=0.002), 1000, 1000)
    assert [m.name for m in cheap] == ["det-echo-small", "det-json"]
    fast = r.candidates(RoutingPolicy(max_p95_latency_ms=12), 10, 10)
    assert {m.name for m in fast} == {"det-echo-small", "det-json"}
    # the small model's 8k context cannot hold 8000 + 500 tokens
    assert "det-echo-small" not in {m.name for m in r.candidates(RoutingPolicy(), 8000, 500)}


def test_nothing_satisfies_the_policy_says_what_excluded_what() -> None:
    r = _builtin_router()
    with pytest.raises(InvalidInput) as info:
        r.candidates(RoutingPolicy(min_quality=0.7, max_cost_usd=0.001), 1000, 1000)
    (problem,) = info.value.details
    assert problem["field"] == "policy"
    excluded = {e["model"]: e["constraint"] for e in problem["excluded"]}
    assert excluded == {
        "det-echo-small": "min_quality",
        "det-json": "max_cost_usd",
        "det-echo-large": "max_cost_usd",
    }
    assert "det-echo-small: quality 0.3 < min_quality 0.7" in info.value.message


def test_explicit_provider_and_model_narrow() -> None:
    r = _builtin_router()
    assert [m.name for m in r.candidates(RoutingPolicy(), 10, 10, model="det-json")] == ["det-json"]
    # a provider's own model id names every catalogue model that uses it
    assert {m.name for m in r.candidates(RoutingPolicy(), 10, 10, model="echo")} == {
        "det-echo-small",
        "det-echo-large",
    }
    assert len(r.candidates(RoutingPolicy(), 10, 10, provider="deterministic")) == 3
    with pytest.raises(InvalidInput) as info:
        r.candidates(RoutingPolicy(), 10, 10, model="gpt-5")
    assert info.value.details[0]["field"] == "model"
    with pytest.raises(InvalidInput) as info:
        r.candidates(RoutingPolicy(), 10, 10, provider="openai")
    assert info.value.details[0]["field"] == "provider"
    # an explicit model still has to satisfy the policy
    with pytest.raises(InvalidInput, match="policy"):
        r.candidates(RoutingPolicy(min_quality=0.9), 10, 10, model="det-json")


def test_observed_latency_replaces_the_catalogue_p95_once_there_is_enough() -> None:
    r = _builtin_router(min_observations=20, latency_window=50)
    small = BUILTIN.model("det-echo-small")
    policy = RoutingPolicy(max_p95_latency_ms=100)
    for _ in range(19):
        r.observe("det-echo-small", 500.0)
    assert r.p95_ms(small) == small.p95_latency_ms  # not enough yet
    assert "det-echo-small" in {m.name for m in r.candidates(policy, 10, 10)}
    r.observe("det-echo-small", 500.0)
    assert r.p95_ms(small) == 500.0
    assert "det-echo-small" not in {m.name for m in r.candidates(policy, 10, 10)}
    for _ in range(50):  # the window is bounded: the slow spell ages out
        r.observe("det-echo-small", 3.0)
    assert r.p95_ms(small) == 3.0


def test_observations_are_thread_safe_and_bounded() -> None:
    r = _builtin_router(latency_window=1000, min_observations=1)

    def worker(offset: int) -> None:
        for i in range(500):
            r.observe("det-json", float(offset + i % 100))

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(r._latencies["det-json"]) == 1000
    assert r.observed_p95_ms("det-json") is not None


# -- calling ---------------------------------------------------------------------------------------


def _spec(name: str, provider: str, price: float = 1.0, quality: float = 0.5) -> ModelSpec:
    return ModelSpec(name, provider, "echo", price, price * 4, quality, 50.0, 32_000)


def _two_provider_router(
    first: DeterministicProvider,
    second: DeterministicProvider,
    *,
    first_retries: int | None = None,
    **kw: Any,
) -> tuple[Router, list[float]]:
    catalog = Catalog(
        providers=(
            ProviderConfig("p1", "deterministic", max_retries=first_retries),
            ProviderConfig("p2", "deterministic"),
        ),
        models=(_spec("m1", "p1", price=1.0), _spec("m2", "p2", price=2.0)),
    )
    first.name, second.name = "p1", "p2"
    sleeps: list[float] = []
    router = Router(catalog, {"p1": first, "p2": second}, sleep=sleeps.append, rng=random.Random(7), **kw)
    return router, sleeps


def _template() -> CompletionRequest:
    return CompletionRequest(model="", prompt="Hello world")


def test_first_candidate_answers() -> None:
    router, sleeps = _two_provider_router(DeterministicProvider(), DeterministicProvider())
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert routed.spec.name == "m1" and routed.completion.text == "Hello world"
    assert routed.completion.model == "echo"  # the template's model was replaced by the model id
    c = routed.completion
    assert routed.cost_usd == pytest.approx(cost_usd(routed.spec, c.prompt_tokens, c.completion_tokens))
    assert [(a.model, a.outcome) for a in routed.attempts] == [("m1", "ok")]
    assert sleeps == []


def test_retryable_failures_are_retried_with_jittered_exponential_backoff() -> None:
    flaky = DeterministicProvider({"echo": [ProviderError("503"), ProviderError("503"), "third time"]})
    router, sleeps = _two_provider_router(flaky, DeterministicProvider(), max_retries=2, backoff_base_s=0.1)
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert routed.completion.text == "third time" and routed.spec.name == "m1"
    assert [a.outcome for a in routed.attempts] == ["error", "error", "ok"]
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2


def test_retries_exhausted_fall_back_to_the_next_candidate() -> None:
    down = DeterministicProvider({"echo": ProviderError("503 down")})
    router, sleeps = _two_provider_router(down, DeterministicProvider(), max_retries=2)
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert routed.spec.name == "m2"
    assert [(a.model, a.outcome) for a in routed.attempts] == [("m1", "error")] * 3 + [("m2", "ok")]
    assert len(sleeps) == 2  # between the three tries of m1, none before the fallback


def test_non_retryable_moves_on_at_once() -> None:
    bad = DeterministicProvider({"echo": ProviderError("400 bad request", retryable=False)})
    router, sleeps = _two_provider_router(bad, DeterministicProvider(), max_retries=2)
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert [a.outcome for a in routed.attempts] == ["error", "ok"] and sleeps == []


def test_the_catalogue_can_set_retries_per_provider() -> None:
    down = DeterministicProvider({"echo": ProviderError("503")})
    router, _ = _two_provider_router(down, DeterministicProvider(), first_retries=0, max_retries=3)
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert [a.model for a in routed.attempts] == ["m1", "m2"]


def test_retry_after_is_honoured_and_a_long_one_means_fall_back() -> None:
    short = ProviderError("429")
    short.retry_after_s = 0.5  # type: ignore[attr-defined]
    router, sleeps = _two_provider_router(
        DeterministicProvider({"echo": [short, "ok"]}), DeterministicProvider()
    )
    router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert sleeps == [0.5]
    long = ProviderError("429")
    long.retry_after_s = 60  # type: ignore[attr-defined]
    router, sleeps = _two_provider_router(DeterministicProvider({"echo": long}), DeterministicProvider())
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert sleeps == [] and routed.spec.name == "m2"


def test_every_failure_a_timeout_is_504_with_each_attempt() -> None:
    slow = DeterministicProvider({"echo": ProviderTimeout("no answer within 30 s")})
    router, _ = _two_provider_router(
        slow, DeterministicProvider({"echo": ProviderTimeout("slow")}), max_retries=1
    )
    with pytest.raises(UpstreamTimeout) as info:
        router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert [(d["model"], d["outcome"]) for d in info.value.details] == [("m1", "timeout")] * 2 + [
        ("m2", "timeout")
    ] * 2
    assert set(info.value.details[0]) == {
        "field",
        "reason",
        "model",
        "provider",
        "outcome",
        "error",
        "latency_ms",
    }
    assert info.value.details[0]["field"] == "attempts[0]"


def test_mixed_failures_are_502() -> None:
    router, _ = _two_provider_router(
        DeterministicProvider({"echo": ProviderTimeout("slow")}),
        DeterministicProvider({"echo": ProviderError("401 bad key", retryable=False)}),
        max_retries=0,
    )
    with pytest.raises(UpstreamFailed) as info:
        router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert type(info.value) is UpstreamFailed
    assert [d["outcome"] for d in info.value.details] == ["timeout", "error"]
    assert info.value.details[1]["error"] == "401 bad key"


def test_an_adapter_bug_does_not_stop_the_fallback() -> None:
    broken = DeterministicProvider({"echo": KeyError("choices")})
    router, _ = _two_provider_router(broken, DeterministicProvider())
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert routed.attempts[0].error == "unexpected KeyError" and routed.spec.name == "m2"


def test_latency_comes_from_the_clock_and_feeds_the_p95() -> None:
    ticks = iter([0.0, 0.0, 0.25, 1.0, 1.5])  # begin, call start, call end
    router, _ = _two_provider_router(
        DeterministicProvider(), DeterministicProvider(), clock=lambda: next(ticks), min_observations=1
    )
    routed = router.complete(_template(), router.candidates(RoutingPolicy(), 10, 10))
    assert routed.attempts[0].latency_ms == 250.0
    assert router.observed_p95_ms("m1") == 250.0


class _Clock:
    """A fake clock that the fake provider advances, so deadlines are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _SlowProvider(DeterministicProvider):
    def __init__(self, clock: _Clock, seconds: float) -> None:
        super().__init__({"echo": ProviderTimeout("slow")})
        self.clock, self.seconds = clock, seconds

    def complete(self, request: CompletionRequest) -> Any:
        self.clock.now += min(self.seconds, request.timeout_s)
        return super().complete(request)


def test_a_deadline_bounds_retries_and_fallbacks() -> None:
    clock = _Clock()
    slow = _SlowProvider(clock, seconds=4.0)
    second = DeterministicProvider()
    router, _ = _two_provider_router(slow, second, clock=clock, max_retries=5)
    with pytest.raises(UpstreamTimeout) as info:
        router.complete(
            CompletionRequest(model="", prompt="x", timeout_s=4.0),
            router.candidates(RoutingPolicy(), 10, 10),
            deadline_s=10.0,
        )
    # tries at t=0 (4 s), t=4 (4 s), t=8 (cut to the 2 s left), then nothing starts
    assert [c.timeout_s for c in slow.calls] == [4.0, 4.0, 2.0]
    assert info.value.details[-1]["error"] == "the deadline was spent"
    assert second.calls == []
