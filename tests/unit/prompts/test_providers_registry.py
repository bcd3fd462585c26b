"""Providers from the catalogue: one instance per provider, cached per catalogue."""

from __future__ import annotations

from typing import Any

from optiloop.prompts.catalog import BUILTIN, parse_catalog
from optiloop.prompts.providers.bedrock import BedrockProvider
from optiloop.prompts.providers.deterministic import DeterministicProvider
from optiloop.prompts.providers.local_llm import LocalLlmProvider
from optiloop.prompts.providers.openai_compat import OpenAICompatibleProvider
from optiloop.prompts.providers.registry import build_providers, clear_cache

MODEL: dict[str, Any] = {
    "model_id": "m",
    "input_usd_per_1m": 1,
    "output_usd_per_1m": 2,
    "quality": 0.5,
    "p95_latency_ms": 100,
    "context_tokens": 4096,
}


def _catalog(timeout: float = 12) -> Any:
    return parse_catalog(
        {
            "providers": {
                "oa": {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "K",
                       "timeout_s": timeout},
                "br": {"type": "bedrock", "region": "eu-central-1"},
                "llm": {"type": "local_llm", "model_path": "/nowhere/model.gguf"},
                "det": {"type": "deterministic", "latency_ms": 3},
            },
            "models": [{"name": f"m-{p}", "provider": p, **MODEL} for p in ("oa", "br", "llm", "det")],
        }
    )  # fmt: skip


def test_one_provider_of_the_right_type_per_entry() -> None:
    providers = build_providers(_catalog())
    assert set(providers) == {"oa", "br", "llm", "det"}
    assert isinstance(providers["oa"], OpenAICompatibleProvider) and providers["oa"].timeout_s == 12
    assert isinstance(providers["br"], BedrockProvider) and providers["br"].region == "eu-central-1"
    assert isinstance(providers["llm"], LocalLlmProvider)
    assert isinstance(providers["det"], DeterministicProvider) and providers["det"].latency_ms == 3
    assert all(p.name == name for name, p in providers.items())
    assert providers["br"]._client is None  # no boto3 client until a call needs one


def test_instances_are_shared_per_catalogue() -> None:
    clear_cache()
    first = build_providers(_catalog())
    again = build_providers(_catalog())  # an equal catalogue
    assert all(first[k] is again[k] for k in first)
    other = build_providers(_catalog(timeout=13))  # different settings: fresh providers
    assert other["oa"] is not first["oa"]
    again.pop("oa")  # callers get a copy of the mapping; the cache is untouched
    assert "oa" in build_providers(_catalog())


def test_builtin_catalogue_builds_the_deterministic_provider() -> None:
    providers = build_providers(BUILTIN)
    assert list(providers) == ["deterministic"]
