"""When the SDK sends a request again, and how long it waits first.

The rule (README, "The SDK"): a request is retried only when sending it again cannot do something
twice.

- Any operation, POSTs included, is retried when the server cannot have acted on it:
  the connection was never made (connect error or timeout, no free pooled connection), the
  server answered 429 (throttled before the handler ran), or it answered 409 *with* Retry-After
  (concurrent writers of one project contended; nothing was written and the same request will
  succeed). A 409 without Retry-After is a real conflict and is never retried.
- Idempotent operations only (GET, PUT, PATCH, DELETE and the POSTs the operations table marks
  idempotent, such as `runs:ingest`, which the server deduplicates) are also retried on 408,
  500, 502, 503, 504 and on transport errors after the request left (read timeout, dropped
  connection): the server may have acted, and doing it again changes nothing.

Waits grow exponentially with full jitter (`uniform(0, min(max_backoff, base * 2**n))`), so a crowd
of clients does not come back in step. A Retry-After header is honoured: the wait is at least what
it says, plus a little jitter; one longer than `max_retry_after` ends the retries at once and the
error (with its `retry_after`) goes to the caller, who can decide to wait that long.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

UNSERVED_STATUSES = frozenset({429})
"""Statuses that mean the handler never ran: safe to resend any operation."""
IDEMPOTENT_STATUSES = frozenset({408, 500, 502, 503, 504})
"""Statuses after which only an idempotent operation is resent (the server may have acted)."""
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request reached the server."""


@dataclass
class RetryPolicy:
    """How many attempts, and the backoff between them. `attempts=1` turns retries off."""

    attempts: int = 4
    backoff_s: float = 0.25
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff_s < 0 or self.max_backoff_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("backoff_s, max_backoff_s and max_retry_after_s must be >= 0")

    def retries_status(self, status: int, headers: httpx.Headers, idempotent: bool) -> bool:
        """Whether an answer with this status may be resent (before counting attempts)."""
        if status in UNSERVED_STATUSES:
            return True
        if status == 409:
            return "retry-after" in headers
        return idempotent and status in IDEMPOTENT_STATUSES

    @staticmethod
    def retries_exception(exc: httpx.TransportError, idempotent: bool) -> bool:
        """Whether a transport failure may be resent: always if nothing was sent, else if idempotent."""
        return isinstance(exc, NOT_SENT) or idempotent

    def after_exception(self, attempt: int, exc: httpx.TransportError, idempotent: bool) -> float | None:
        """The wait before resending after a transport failure, or None to give up."""
        return self.delay(attempt, None) if self.retries_exception(exc, idempotent) else None

    def after_status(
        self, attempt: int, status: int, headers: httpx.Headers, idempotent: bool
    ) -> float | None:
        """The wait before resending after an error answer, or None to raise it."""
        if not self.retries_status(status, headers, idempotent):
            return None
        return self.delay(attempt, parse_retry_after(headers.get("retry-after")))

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt `attempt + 1` (0-based `attempt` just failed), or None when
        no attempt is left or the server asks for a longer wait than `max_retry_after_s`."""
        if attempt + 1 >= self.attempts:
            return None
        backoff = self.rng.uniform(0.0, min(self.max_backoff_s, self.backoff_s * 2**attempt))
        if retry_after is None:
            return backoff
        if retry_after > self.max_retry_after_s:
            return None
        return retry_after + self.rng.uniform(0.0, min(1.0, self.backoff_s))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
