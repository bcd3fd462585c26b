"""The model catalogue: a valid file loads, every problem is named by its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from optiloop.config import ConfigError
from optiloop.prompts.catalog import BUILTIN, CatalogError, ModelSpec, cost_usd, load_catalog, parse_catalog

VALID: dict[str, Any] = {
    "providers": {
        "openai": {
            "type": "openai_compatible",
            "base_url": "https://api.openai.com/v1",
            "api_key_env": "OPENAI_API_KEY",
            "timeout_s": 20,
            "max_retries": 1,
        },
        "bedrock": {"type": "bedrock", "region": "eu-west-1"},
        "local": {"type": "local_llm", "n_ctx": 1024},
        "det": {"type": "deterministic", "latency_ms": 1},
    },
    "models": [
        {
            "name": "gpt-4o-mini",
            "provider": "openai",
            "model_id": "gpt-4o-mini",
            "input_usd_per_1m": 0.15,
            "output_usd_per_1m": 0.6,
            "quality": 0.7,
            "p95_latency_ms": 2500,
            "context_tokens": 128000,
        },
        {
            "name": "haiku",
            "provider": "bedrock",
            "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
            "input_usd_per_1m": 0.25,
            "output_usd_per_1m": 1.25,
            "quality": 0.65,
            "p95_latency_ms": 3000,
            "context_tokens": 200000,
        },
    ],
    "default_route": "quality_first",
}


def test_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(VALID))
    cat = load_catalog(path)
    assert cat.provider_names == ("openai", "bedrock", "local", "det")
    openai = cat.provider("openai")
    assert openai.api_key_env == "OPENAI_API_KEY" and openai.timeout_s == 20.0 and openai.max_retries == 1
    assert cat.provider("bedrock").region == "eu-west-1" and cat.provider("bedrock").max_retries is None
    assert cat.provider("local").n_ctx == 1024
    assert cat.model("haiku").context_tokens == 200000
    assert cat.default_route == "quality_first"
    assert hash(cat) == hash(load_catalog(path))  # immutable, hashable: providers cache per catalogue


def test_no_file_gives_the_builtin_deterministic_catalogue() -> None:
    cat = load_catalog(None)
    assert cat is BUILTIN
    assert {p.type for p in cat.providers} == {"deterministic"}
    prices = {m.input_usd_per_1m for m in cat.models}
    qualities = {m.quality for m in cat.models}
    assert len(cat.models) >= 2 and len(prices) == len(cat.models) and len(qualities) == len(cat.models)


def test_cost_is_per_million_tokens() -> None:
    spec = ModelSpec("m", "p", "m", input_usd_per_1m=2.0, output_usd_per_1m=8.0, quality=0.5,
                     p95_latency_ms=10, context_tokens=1000)  # fmt: skip
    assert cost_usd(spec, 1_000_000, 0) == pytest.approx(2.0)
    assert cost_usd(spec, 500, 250) == pytest.approx((500 * 2 + 250 * 8) / 1e6)


def _problems(mutate: Any) -> dict[str, str]:
    data = copy.deepcopy(VALID)
    mutate(data)
    with pytest.raises(CatalogError) as info:
        parse_catalog(data, source="models.json")
    assert isinstance(info.value, ConfigError)
    return dict(info.value.problems)


def test_every_problem_is_reported_with_its_json_path() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["models"][1]["quality"] = 1.5
        d["models"][0]["input_usd_per_1m"] = -1
        d["models"][1]["provider"] = "nobody"
        d["models"][0]["context_tokens"] = "lots"
        d["providers"]["openai"]["base_url"] = "ftp://x"
        d["default_route"] = "cheapest"

    problems = _problems(mutate)
    assert set(problems) == {
        "models[1].quality",
        "models[0].input_usd_per_1m",
        "models[1].provider",
        "models[0].context_tokens",
        "providers.openai.base_url",
        "default_route",
    }
    assert "between 0 and 1" in problems["models[1].quality"]


def test_a_secret_in_the_file_is_refused() -> None:
    problems = _problems(lambda d: d["providers"]["openai"].update(api_key="sk-live-123"))
    assert "api_key_env" in problems["providers.openai.api_key"]


def test_api_key_env_must_be_a_variable_name_not_a_key() -> None:
    problems = _problems(lambda d: d["providers"]["openai"].update(api_key_env="sk-live-abcdef"))
    assert "NAME of an environment variable" in problems["providers.openai.api_key_env"]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["providers"]["det"].update(type="grpc"), "providers.det.type"),
        (lambda d: d["providers"]["det"].update(region="us-east-1"), "providers.det.region"),
        (lambda d: d["providers"]["bedrock"].update(region="Frankfurt"), "providers.bedrock.region"),
        (lambda d: d["models"][0].pop("quality"), "models[0].quality"),
        (lambda d: d["models"][0].update(colour="red"), "models[0].colour"),
        (lambda d: d["models"].append(dict(d["models"][0])), "models[2].name"),
        (lambda d: d["models"][0].update(p95_latency_ms=0), "models[0].p95_latency_ms"),
        (lambda d: d["models"][0].update(quality=True), "models[0].quality"),
        (lambda d: d.update(models=[]), "models"),
        (lambda d: d.update(providers={}), "providers"),
        (lambda d: d.update(extra=1), "extra"),
    ],
)
def test_single_problems(mutate: Any, path: str) -> None:
    assert path in _problems(mutate)


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    bad = tmp_path / "models.json"
    bad.write_text("{not json")
    with pytest.raises(CatalogError, match=r"not JSON.*line 1"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.json")
    bad.write_text("[]")
    with pytest.raises(CatalogError, match=r"\$: must be a JSON object"):
        load_catalog(bad)
