"""Where the client connects and with which key: arguments first, then OPTILOOP_URL / OPTILOOP_API_KEY.

The same variables the pytest plugin reads, and the same default URL as `optiloop serve` / `make run`,
so a script that works next to a local server works in CI by exporting two variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from optiloop import __version__

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # a large hybrid batch on a long history takes seconds
USER_AGENT = f"optiloop-python/{__version__}"


@dataclass(frozen=True)
class Connection:
    base_url: str  # ends with "/", so an API Gateway stage path (".../prod/") is kept when joining
    api_key: str | None

    def headers(self) -> dict[str, str]:
        out = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.api_key:
            out["Authorization"] = f"Bearer {self.api_key}"
        return out


def resolve(
    base_url: str | None = None, api_key: str | None = None, env: Mapping[str, str] | None = None
) -> Connection:
    env = os.environ if env is None else env
    url = (base_url or env.get("OPTILOOP_URL") or DEFAULT_URL).strip()
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the OptiLoop URL must start with http:// or https://, got {url!r}")
    # OPTILOOP_ADMIN_TOKEN too, as the CLI reads it: the bootstrap token is the first admin key
    key = (
        api_key
        if api_key is not None
        else (env.get("OPTILOOP_API_KEY") or env.get("OPTILOOP_ADMIN_TOKEN") or None)
    )
    return Connection(base_url=url.rstrip("/") + "/", api_key=key)
