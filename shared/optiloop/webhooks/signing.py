"""The `OptiLoop-Signature` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.

The timestamp is inside the signed text so a captured request cannot be replayed later with a new
time; receivers reject signatures older than a few minutes (`verify`'s tolerance). `v1` names the
scheme so that a second one can be added beside it during a change of algorithm. docs/webhooks.md
shows the same check in ten lines for receivers that do not use this package.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "OptiLoop-Signature"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str, body: bytes, value: str, *, now: float | None = None, tolerance_s: int = TOLERANCE_S
) -> bool:
    """True if `value` (the header) signs `body` with `secret` and is at most `tolerance_s` old."""
    try:
        parts = dict(p.split("=", 1) for p in value.split(","))
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, t, body), parts.get("v1", ""))
