"""Serving metrics: requests, errors and latency per deployment, variant and minute.

Decision: per-request numbers are aggregated in process and written as one document per
(deployment, variant, minute), never a write per request or per row. A request adds to an
in-memory `Minute` (a counter and a bounded latency histogram: 80 log-spaced buckets from 0.05 ms,
each 20% wider than the last, so any quantile is known to within 20% whatever the traffic); the
buffer is merged into the store at most every `FLUSH_INTERVAL_S` seconds per process, after the
response has been sent (a background task). The merge is a read, add and replace guarded by the
document's rev, so the many Lambda containers or serve workers that add to one minute never lose
each other's counts. The price: a process that dies loses at most its last few seconds of counts,
which is fine for percentiles and SLO checks and is why these are not the audit trail (issue 15: a
high-rate path must not wait on the hash chain). Documents expire after 30 days (TTL).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.store.records import Doc

KIND = "serving_metrics"
RETENTION_S = 30 * 86_400
FLUSH_INTERVAL_S = 5.0
FIRST_MS = 0.05
GROWTH = 1.2
N_BUCKETS = 80  # 0.05 ms * 1.2**79 ~ 90 s; slower lands in the last bucket
WINDOWS: dict[str, int] = {"5m": 5, "1h": 60, "24h": 1440}  # name -> minutes
SLO_WINDOW = "5m"
SLO_MIN_REQUESTS = 20  # fewer canary requests than this in the window prove nothing either way
MERGE_ATTEMPTS = 8


def bucket_of(ms: float) -> int:
    if not ms > FIRST_MS:
        return 0
    return min(N_BUCKETS - 1, math.ceil(math.log(ms / FIRST_MS) / math.log(GROWTH) - 1e-9))


def bucket_upper(k: int) -> float:
    return FIRST_MS * GROWTH**k


def quantile(hist: Mapping[int, int], q: float) -> float | None:
    """The q-quantile of a histogram, interpolated geometrically inside its bucket."""
    total = sum(hist.values())
    if total == 0:
        return None
    target = q * total
    cum = 0
    for k in sorted(hist):
        n = hist[k]
        if cum + n >= target:
            hi = bucket_upper(k)
            lo = hi / GROWTH if k > 0 else 0.0
            frac = (target - cum) / n if n else 1.0
            return round(lo + (hi - lo) * frac if lo == 0 else lo * (hi / lo) ** frac, 3)
        cum += n
    return round(bucket_upper(max(hist)), 3)  # pragma: no cover - the loop always returns


def minute_of(iso: str) -> str:
    """`2026-05-01T12:34:56.789Z` -> `2026-05-01T12:34`: the minute a request is counted in."""
    return iso[:16]


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)


def minutes_before(iso: str, minutes: int) -> str:
    return (_parse(iso) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


@dataclass
class Minute:
    requests: int = 0
    errors: int = 0
    rows: int = 0
    latency_ms_sum: float = 0.0
    hist: Counter[int] = field(default_factory=Counter)
    versions: set[str] = field(default_factory=set)

    def add(self, latency_ms: float, rows: int, error: bool) -> None:
        self.requests += 1
        self.errors += int(error)
        self.rows += rows
        self.latency_ms_sum += latency_ms
        self.hist[bucket_of(latency_ms)] += 1

    def merge_into(self, data: dict[str, Any]) -> dict[str, Any]:
        hist = Counter({int(k): int(v) for k, v in data.get("hist", {}).items()})
        hist.update(self.hist)
        return {
            **data,
            "requests": int(data.get("requests", 0)) + self.requests,
            "errors": int(data.get("errors", 0)) + self.errors,
            "rows": int(data.get("rows", 0)) + self.rows,
            "latency_ms_sum": float(data.get("latency_ms_sum", 0.0)) + self.latency_ms_sum,
            "hist": {str(k): v for k, v in sorted(hist.items())},
            "model_version_ids": sorted(set(data.get("model_version_ids", [])) | self.versions),
        }


Key = tuple[str, str, str]  # deployment id, variant, minute


class Recorder:
    """The in-process buffer of one process; `record` is a few dict operations, `flush` the writes."""

    def __init__(self, interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._pending: dict[Key, Minute] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()

    def record(
        self,
        deployment_id: str,
        variant: str,
        version_id: str,
        at: str,
        latency_ms: float,
        rows: int,
        *,
        error: bool = False,
    ) -> None:
        key = (deployment_id, variant, minute_of(at))
        with self._lock:
            m = self._pending.get(key)
            if m is None:
                m = self._pending[key] = Minute()
            m.add(latency_ms, rows, error)
            m.versions.add(version_id)

    def due(self) -> bool:
        return bool(self._pending) and time.monotonic() - self._last_flush >= self.interval_s

    def pending(self) -> int:
        return len(self._pending)

    def flush(self, deps: Deps, deployment_id: str | None = None) -> set[str]:
        """Merge the buffer (or one deployment's part of it) into the store; the deployments written."""
        with self._flush_lock:
            with self._lock:
                if deployment_id is None:
                    batch, self._pending = self._pending, {}
                    self._last_flush = time.monotonic()
                else:
                    batch = {k: v for k, v in self._pending.items() if k[0] == deployment_id}
                    for k in batch:
                        del self._pending[k]
            failed: dict[Key, Minute] = {}
            for key, minute in batch.items():
                try:
                    merge(deps, key, minute)
                except Exception:  # the store is unavailable: keep the counts for the next flush
                    failed[key] = minute
            if failed:
                with self._lock:
                    for key, minute in failed.items():
                        held = self._pending.setdefault(key, Minute())
                        _combine(held, minute)
                raise_first = next(iter(failed))
                raise Conflict(f"serving metrics of {raise_first[0]} could not be written; kept for later")
            return {k[0] for k in batch}


def _combine(into: Minute, other: Minute) -> None:
    into.requests += other.requests
    into.errors += other.errors
    into.rows += other.rows
    into.latency_ms_sum += other.latency_ms_sum
    into.hist.update(other.hist)
    into.versions |= other.versions


def doc_id(key: Key) -> str:
    return f"{key[0]}|{key[1]}|{key[2]}"


def merge(deps: Deps, key: Key, minute: Minute) -> None:
    """Add one buffered minute to its document: read, add, replace under the rev (or create)."""
    dep, variant, at = key
    docs = deps.store.docs
    expires = _parse(at + ":00Z").timestamp() + RETENTION_S
    for _ in range(MERGE_ATTEMPTS):
        current = docs.get(KIND, doc_id(key))
        base = (
            current.data if current is not None else {"deployment_id": dep, "variant": variant, "minute": at}
        )
        doc = Doc(
            kind=KIND,
            id=doc_id(key),
            scope=dep,
            sort=f"{at}#{variant}",
            data=minute.merge_into(base),
            expires_at=expires,
        )
        try:
            if current is None:
                docs.create(doc)
            else:
                docs.replace(doc, current.rev)
            return
        except Conflict:  # another process merged first: read again and add to its numbers
            continue
    raise Conflict(f"serving metrics of {dep}/{variant}/{at} kept losing the race to other writers")


def _stats(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    requests = errors = rows = 0
    total_ms = 0.0
    hist: Counter[int] = Counter()
    for d in docs:
        requests += int(d["requests"])
        errors += int(d["errors"])
        rows += int(d["rows"])
        total_ms += float(d["latency_ms_sum"])
        hist.update({int(k): int(v) for k, v in d["hist"].items()})
    return {
        "requests": requests,
        "errors": errors,
        "error_rate_pct": round(100.0 * errors / requests, 4) if requests else 0.0,
        "rows": rows,
        "latency_ms": {
            "mean": round(total_ms / requests, 3) if requests else None,
            "p50": quantile(hist, 0.50),
            "p95": quantile(hist, 0.95),
            "p99": quantile(hist, 0.99),
        },
    }


def _read(deps: Deps, deployment_id: str, since: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after: str | None = since
    while True:
        page = deps.store.docs.list(KIND, deployment_id, after=after, limit=500)
        rows.extend(d.data for d in page)
        if len(page) < 500:
            return [r for r in rows if r["minute"] > since]
        after = page[-1].sort


def summary(deps: Deps, deployment_id: str, now: str | None = None) -> dict[str, Any]:
    """Requests, errors and latency p50/p95/p99 per variant over each window (5m, 1h, 24h)."""
    now = now or deps.clock()
    rows = _read(deps, deployment_id, minutes_before(now, max(WINDOWS.values())))
    out: dict[str, Any] = {}
    for name, minutes in WINDOWS.items():
        since = minutes_before(now, minutes)
        in_window = [r for r in rows if r["minute"] > since]
        variants = sorted({r["variant"] for r in in_window})
        out[name] = {v: _stats(r for r in in_window if r["variant"] == v) for v in variants}
    return {"deployment_id": deployment_id, "as_of": now, "windows": out}


def window(
    deps: Deps, deployment_id: str, minutes: int, variant: str, version_id: str, now: str | None = None
) -> dict[str, Any]:
    """One variant's stats over the last `minutes`, counting only minutes it served `version_id`
    alone (a canary replaced a minute ago is not judged by its predecessor's numbers)."""
    rows = _read(deps, deployment_id, minutes_before(now or deps.clock(), minutes))
    return _stats(r for r in rows if r["variant"] == variant and r.get("model_version_ids") == [version_id])


def slo_breaches(window: Mapping[str, Any], slos: Mapping[str, float], variant: str = "canary") -> list[str]:
    """Why `variant` breaks its SLOs over one window's stats (empty: it does not, or too few requests)."""
    stats = window.get(variant)
    if not stats or stats["requests"] < SLO_MIN_REQUESTS:
        return []
    reasons: list[str] = []
    p95, limit = stats["latency_ms"]["p95"], slos.get("latencyMsP95")
    if limit is not None and p95 is not None and p95 > limit:
        reasons.append(f"latency p95 {p95} ms > {limit} ms")
    rate, max_rate = stats["error_rate_pct"], slos.get("errorRatePct")
    if max_rate is not None and rate > max_rate:
        reasons.append(f"error rate {rate}% > {max_rate}%")
    return reasons


RECORDER = Recorder()
"""The one buffer of this process."""
