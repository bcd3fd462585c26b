"""Per-principal rate limits, in process: token buckets keyed by the principal's name.

Two budgets per principal (a person or a CI runner; all its keys share them, so minting more keys
buys nothing):

* requests: `rate_limit_rps` a second sustained, bursts of `rate_limit_burst`. Past it, a request is
  answered 429 with Retry-After before its handler runs. Generous by default: it stops a key from
  looping on the server, not a busy client.
* refusals: each refused request of a known principal (403, 409, 422) is an audit record
  (`request.refused`); at most `refusals_per_minute` a minute are (bursts of as many). Past that, a
  request that would be refused is answered 429 instead and not recorded, except for one
  `request.throttled` record per episode, so a key can neither grow the log without bound nor probe
  the API at full speed; its valid requests still go through.

Buckets live in this process: `optiloop serve` is one process, and on AWS each Lambda container has its
own (there, API Gateway's usage-plan throttle is the shared limit per API key; see infra_cdk/api.py).
A bucket that has refilled carries no state, so idle principals are dropped once the table is large.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED = 10_000  # principals with a partly spent bucket; idle (full) ones are dropped past this


@dataclass
class _Bucket:
    tokens: float
    updated: float
    throttled: bool = False  # a refusal was turned into a 429 since the last allowed one


class TokenBuckets:
    """`capacity` tokens, refilled at `rate` a second; one bucket per key, thread-safe."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: str, now: float) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._drop_full(now)
            b = self._buckets[key] = _Bucket(tokens=self.capacity, updated=now)
        else:
            b.tokens = min(self.capacity, b.tokens + (now - b.updated) * self.rate)
            b.updated = now
        return b

    def _drop_full(self, now: float) -> None:
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.capacity
        ]
        for k in full:
            del self._buckets[k]

    def take(self, key: str) -> tuple[float, bool]:
        """(0, was_throttled) and a token spent, or (seconds until one is available, was_throttled).
        `was_throttled` says whether this key had been refused since its last successful take, and
        is reset by a successful one (so a caller can note the start of each throttled episode)."""
        with self._lock:
            b = self._refilled(key, self._clock())
            was = b.throttled
            if b.tokens >= 1:
                b.tokens -= 1
                b.throttled = False
                return 0.0, was
            b.throttled = True
            return (1 - b.tokens) / self.rate, was


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    first_refused: bool = False  # the first refusal of an episode (worth one audit record)


class PrincipalLimits:
    """The request and refusal budgets of every principal of one app."""

    def __init__(
        self,
        rate_rps: float,
        burst: int,
        refusals_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_rps = rate_rps
        self.burst = burst
        self.refusals_per_minute = refusals_per_minute
        self.requests = TokenBuckets(rate_rps, burst, clock)
        self.refusals = TokenBuckets(refusals_per_minute / 60.0, refusals_per_minute, clock)

    def request(self, principal: str) -> Verdict:
        wait, _ = self.requests.take(principal)
        return Verdict(allowed=wait == 0, retry_after_s=wait)

    def refusal(self, principal: str) -> Verdict:
        wait, was_throttled = self.refusals.take(principal)
        return Verdict(allowed=wait == 0, retry_after_s=wait, first_refused=wait > 0 and not was_throttled)
