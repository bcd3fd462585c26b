"""One delivery attempt over HTTP: check the URL again, sign, POST to the checked address.

httpx with a 5 s timeout and no redirects (a redirect would be a way around the URL rules: a 3xx is
simply not a delivery). The connection goes to the address `urls.check` approved, with the original
host in the Host header and as the TLS server name, so certificates are checked against the host and
a DNS answer that changes between check and connect (rebinding) cannot redirect the request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from optiloop.webhooks import signing, urls

TIMEOUT_S = 5.0
USER_AGENT = "OptiLoop-Webhooks/1"
MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None
    error: str | None
    duration_ms: float


def body_of(event: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def attempt(
    url: str, secret: str, event: dict[str, Any], delivery_id: str, client: httpx.Client | None = None
) -> Outcome:
    start = time.perf_counter()

    def done(ok: bool, code: int | None, error: str | None) -> Outcome:
        return Outcome(
            ok, code, error[:MAX_ERROR] if error else None, round((time.perf_counter() - start) * 1e3, 1)
        )

    try:
        target = urls.check(url)
    except ValueError as e:
        return done(False, None, f"refused: {e}")
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        "OptiLoop-Event": str(event["type"]),
        "OptiLoop-Delivery": delivery_id,
        signing.HEADER: signing.header(secret, body),
    }
    extensions = {"sni_hostname": target.host} if url.lower().startswith("https:") else {}
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    try:
        resp = http.post(target.pinned_url(), content=body, headers=headers, extensions=extensions)
    except httpx.TimeoutException:
        return done(False, None, f"timed out after {TIMEOUT_S:g} s")
    except httpx.HTTPError as e:
        return done(False, None, f"{e.__class__.__name__}: {e}")
    finally:
        if own:
            http.close()
    if 200 <= resp.status_code < 300:
        return done(True, resp.status_code, None)
    text = resp.text[:200] if resp.content else ""
    what = "a redirect (not followed)" if 300 <= resp.status_code < 400 else f"HTTP {resp.status_code}"
    return done(False, resp.status_code, f"{what}{': ' + text if text else ''}")
