"""Providers built from the catalogue: one instance per provider, shared by every request.

Providers hold pooled clients (HTTP connections, a boto3 client, a loaded model), so building one
per request would throw that away. The cache is keyed by the catalogue itself (immutable and
hashable), so a reloaded catalogue with different settings gets fresh providers. Adapters are
imported only for the types the catalogue uses: a deployment without Bedrock never imports boto3,
one without an HTTP provider never imports httpx.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from optiloop.prompts.catalog import Catalog, ProviderConfig
from optiloop.prompts.providers.port import Provider


def build_provider(config: ProviderConfig) -> Provider:
    """A fresh provider for one catalogue entry (prefer build_providers, which caches)."""
    if config.type == "deterministic":
        from optiloop.prompts.providers.deterministic import DeterministicProvider

        return DeterministicProvider(name=config.name, latency_ms=config.latency_ms)
    if config.type == "openai_compatible":
        from optiloop.prompts.providers.openai_compat import OpenAICompatibleProvider

        assert config.base_url is not None  # the catalogue validates it
        return OpenAICompatibleProvider(
            config.name, config.base_url, api_key_env=config.api_key_env, timeout_s=config.timeout_s
        )
    if config.type == "bedrock":
        from optiloop.prompts.providers.bedrock import BedrockProvider

        return BedrockProvider(
            config.name, region=config.region, timeout_s=config.timeout_s, endpoint_url=config.base_url
        )
    if config.type == "local_llm":
        from optiloop.prompts.providers.local_llm import LocalLlmProvider

        return LocalLlmProvider(
            config.name, model_path=config.model_path, n_ctx=config.n_ctx, n_threads=config.n_threads
        )
    raise ValueError(f"unknown provider type {config.type!r}")


@functools.lru_cache(maxsize=8)
def _build_all(catalog: Catalog) -> Mapping[str, Provider]:
    return {config.name: build_provider(config) for config in catalog.providers}


def build_providers(catalog: Catalog) -> dict[str, Provider]:
    """Provider name -> provider for every provider in the catalogue; the same instances each call."""
    return dict(_build_all(catalog))


def clear_cache() -> None:
    """Forget built providers (tests; a process that reloads its catalogue)."""
    _build_all.cache_clear()
