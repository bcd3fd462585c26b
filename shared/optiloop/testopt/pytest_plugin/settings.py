"""Where the plugin finds OptiLoop: environment variables, overridden by pytest options.

The environment is the default because that is how CI passes secrets (a key on the command line
ends up in process lists and logs); the options exist for a one-off run against another server.
An AWS deployment is just another URL (the API Gateway stage URL) with a key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

DEFAULT_URL = "http://127.0.0.1:8080"
TRUE = {"1", "true", "yes", "on"}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("optiloop", "OptiLoop test suggestions (@optiloop.parametrize)")
    group.addoption(
        "--optiloop-url",
        default=None,
        help=f"OptiLoop base URL, a local `optiloop serve` or an AWS stage URL (env OPTILOOP_URL; "
        f"default {DEFAULT_URL})",
    )
    group.addoption(
        "--optiloop-key", default=None, help="API key (env OPTILOOP_API_KEY; prefer the env var in CI)"
    )
    group.addoption(
        "--optiloop-seed",
        type=int,
        default=None,
        help="seed for suggestions and the offline fallback, where @optiloop.parametrize sets none",
    )
    group.addoption(
        "--optiloop-off",
        action="store_true",
        default=False,
        help="ask no server: decorated tests use their fallback='random' sample (env OPTILOOP_OFF=1)",
    )


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str | None
    seed: int | None
    off: bool

    @classmethod
    def from_config(cls, config: pytest.Config, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        seed = config.getoption("optiloop_seed")
        if seed is not None and not 0 <= seed < 2**63:
            raise ValueError(f"--optiloop-seed must be 0..2^63-1, got {seed}")
        url = config.getoption("optiloop_url") or env.get("OPTILOOP_URL") or DEFAULT_URL
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the OptiLoop URL must start with http:// or https://, got {url!r}")
        return cls(
            url=url.rstrip("/"),
            api_key=config.getoption("optiloop_key") or env.get("OPTILOOP_API_KEY") or None,
            seed=seed,
            off=bool(config.getoption("optiloop_off")) or env.get("OPTILOOP_OFF", "").lower() in TRUE,
        )
