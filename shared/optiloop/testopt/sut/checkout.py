"""A checkout service: payments, currencies, coupons, retries and timeouts."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar


def _bucket(*parts: Any) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=4).digest(), "big") % 1_000_000


def _tier(x: float, edges: list[float]) -> int:
    return next((i for i, e in enumerate(edges) if x < e), len(edges))


class CheckoutService:
    name = "checkout-service"
    schema: ClassVar[dict[str, Any]] = {
        "params": {
            "items": {"type": "integer", "min": 1, "max": 500},
            "currency": {"type": "string", "enum": ["USD", "EUR", "JPY", "GBP", "BRL"]},
            "payment": {"type": "string", "enum": ["card", "paypal", "wallet", "invoice"]},
            "region": {"type": "string", "enum": ["us", "eu", "apac"]},
            "coupon": {"type": "boolean"},
            "discount_pct": {"type": "number", "min": 0.0, "max": 90.0, "active_if": "coupon"},
            "retries": {"type": "integer", "min": 0, "max": 8},
            "timeout_ms": {"type": "integer", "min": 50, "max": 30000},
        },
        "relations": [
            "if(payment=='invoice') then(region=='eu')",
            "if(currency=='JPY') then(region=='apac' or payment=='card')",
            "retries * timeout_ms <= 60000",
        ],
    }

    @staticmethod
    def run(p: dict[str, Any]) -> dict[str, Any]:
        items, cur, pay, reg = p["items"], p["currency"], p["payment"], p["region"]
        retries, timeout = p["retries"], p["timeout_ms"]
        disc = p.get("discount_pct", 0.0) if p.get("coupon") else 0.0
        b = {
            _bucket("pay-cur", pay, cur),
            _bucket("region-size", reg, _tier(items, [2, 10, 50, 200])),
            _bucket("timeouts", _tier(timeout, [100, 500, 2000, 10000]), _tier(retries, [1, 3, 6])),
        }
        if p.get("coupon"):
            b.add(_bucket("coupon", _tier(disc, [1, 10, 50, 80]), cur))
        if items == 1:
            b.add(_bucket("single-item", pay))
        latency = 30 + items * 3 + retries * 40
        status, sev = "pass", 0
        if disc >= 88 and cur == "JPY":
            status, sev = "fail", 4  # rounding to whole yen makes the total negative
            b.add(_bucket("fail-negative-total"))
        elif items >= 480 and timeout < 200:
            status, sev = "fail", 3  # the basket times out and the retry storm cascades
            b.add(_bucket("fail-timeout-cascade"))
        elif retries == 8 and pay == "wallet" and reg == "apac" and timeout >= 5000:
            status, sev = "fail", 5  # slow retried wallet captures in apac charge twice
            b.add(_bucket("fail-double-charge"))
        return {
            "status": status,
            "duration_ms": latency,
            "cost_cents": 1 + items // 100,
            "failure_severity": sev,
            "coverage_delta": {"buckets_hit": sorted(b)},
        }
