"""Test-optimisation events for webhooks and EventBridge: what ingest and suggest emit.

Called inside the transaction that stores the runs (ingest) or the suggested tests (suggest), so an
event exists iff that change committed (`optiloop.webhooks.outbox`). Each hook first asks the cached
`targets_of` whether anyone listens; when nobody does it returns before reading or computing anything.

What the events need from the history (spend so far, the (severity, buckets) combinations of earlier
failures, the seq of the last run with a new bucket) is kept per History object and brought up to date
incrementally from `run_order`, so an ingest costs O(new runs), never a pass over the whole history.

- failure.new_mode: a failing run whose (severity, sorted buckets) the project's earlier failures did
  not have; at most MAX_MODE_EVENTS per ingest request (each says how many were new in it).
- budget.threshold: spend crossed 80% / 100% of the project budget with this request (a crossing is
  a fact of one request: no state to keep; raising the budget re-arms it).
- coverage.plateau: the count of runs since the last new bucket reached a subscription's
  `plateau_runs` exactly (once per plateau: a new bucket resets the count).
- surrogate.accuracy_low: the registered surrogate's AUC on recent runs is below a subscription's
  `accuracy_threshold`; a `webhook_state` mark per (target, project) makes it once per model version
  until it recovers (the mark is removed when the AUC is back at or above the threshold).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optiloop.deps import Deps
from optiloop.store.records import Doc, Run
from optiloop.testopt.history import History
from optiloop.webhooks.outbox import emit
from optiloop.webhooks.records import (
    BUDGET_PERCENTS,
    BUDGET_THRESHOLD,
    COVERAGE_PLATEAU,
    FAILURE_NEW_MODE,
    STATE,
    STATE_SCOPE,
    SURROGATE_ACCURACY_LOW,
)
from optiloop.webhooks.subscriptions import Target, targets_of, wants

MAX_MODE_EVENTS = 10
MAX_BUCKETS_IN_EVENT = 100
MEMO_TTL_S = 30.0


def mode_of(run: Run) -> str:
    """A failure mode: the digest of (severity, the run's buckets in canonical order)."""
    text = json.dumps([int(run.failure_severity), list(run.buckets)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class _Summary:
    processed: int = 0
    spend: float = 0.0
    last_new_seq: int = 0
    modes: set[str] = field(default_factory=set)

    def catch_up(self, h: History) -> _Summary:
        """Fold in the runs not seen yet. The spend is the history's running total (exact however
        long the history); failure modes and the last new bucket are read from the runs the history
        still holds (its newest `window`: a process that starts on a longer history knows only
        those modes, docs/suggestion-engine.md "History at scale")."""
        for tid in h.run_order[self.processed :]:
            r = h.runs[tid]
            if r.status == "fail":
                self.modes.add(mode_of(r))
            if r.new_buckets > 0:
                self.last_new_seq = max(self.last_new_seq, r.seq)
        self.processed = len(h.run_order)
        self.spend = h.cost_cents
        return self


_summaries: dict[int, tuple[weakref.ref[History], _Summary]] = {}
_lock = threading.Lock()


def _summary(h: History) -> _Summary:
    with _lock:
        hit = _summaries.get(id(h))
        if hit is None or hit[0]() is not h:
            for k in [k for k, (ref, _) in _summaries.items() if ref() is None]:
                del _summaries[k]  # histories evicted from their cache
            hit = (weakref.ref(h), _Summary())
            _summaries[id(h)] = hit
        return hit[1].catch_up(h)


def after_ingest(
    deps: Deps, project_id: str, budget_cents: float | None, history: History, accepted: Sequence[Run]
) -> None:
    """Emit the ingest's events; `history` is the project's history before `accepted` (the runs this
    request stores, in seq order)."""
    targets = targets_of(deps, project_id)
    if not accepted or not wants(targets, FAILURE_NEW_MODE, BUDGET_THRESHOLD, COVERAGE_PLATEAU):
        return
    s = _summary(history)
    if wants(targets, FAILURE_NEW_MODE):
        _new_modes(deps, project_id, s, accepted)
    if wants(targets, BUDGET_THRESHOLD) and budget_cents:
        _budget(deps, project_id, s, budget_cents, accepted)
    plateau = sorted({t.plateau_runs for t in targets if COVERAGE_PLATEAU in t.events})
    if plateau:
        _plateau(deps, project_id, s, history, accepted, plateau)


def _new_modes(deps: Deps, project_id: str, s: _Summary, accepted: Sequence[Run]) -> None:
    fresh: dict[str, Run] = {}
    for r in accepted:
        if r.status == "fail" and (m := mode_of(r)) not in s.modes and m not in fresh:
            fresh[m] = r
    for m, r in list(fresh.items())[:MAX_MODE_EVENTS]:
        data = {
            "test_id": r.test_id,
            "run_seq": r.seq,
            "failure_severity": r.failure_severity,
            "buckets": list(r.buckets)[:MAX_BUCKETS_IN_EVENT],
            "bucket_count": len(r.buckets),
            "mode": m,
            "known_modes": len(s.modes),
            "new_modes_in_request": len(fresh),
        }
        emit(deps, project_id, FAILURE_NEW_MODE, data)


def _budget(deps: Deps, project_id: str, s: _Summary, budget: float, accepted: Sequence[Run]) -> None:
    before = s.spend
    after = before + sum(float(r.cost_cents) for r in accepted)
    for pct in BUDGET_PERCENTS:
        line = budget * pct / 100.0
        if before < line <= after:
            data = {
                "threshold_percent": pct,
                "budget_cents": budget,
                "spent_cents": round(after, 6),
                "spent_before_cents": round(before, 6),
            }
            emit(deps, project_id, BUDGET_THRESHOLD, data)


def _plateau(
    deps: Deps, project_id: str, s: _Summary, h: History, accepted: Sequence[Run], lengths: list[int]
) -> None:
    for n in lengths:
        since, buckets = h.runs_seq - s.last_new_seq, len(h.buckets_seen)
        for r in accepted:
            buckets += r.new_buckets
            since = 0 if r.new_buckets > 0 else since + 1
            if since == n:
                data = {
                    "plateau_runs": n,
                    "last_new_bucket_seq": r.seq - n,
                    "through_seq": r.seq,
                    "total_buckets": buckets,
                }
                emit(deps, project_id, COVERAGE_PLATEAU, data, only=_plateau_of(n))


def _plateau_of(n: int) -> Callable[[Target], bool]:
    return lambda t: t.plateau_runs == n


def _target_is(key: str) -> Callable[[Target], bool]:
    return lambda t: t.key == key


# -- surrogate accuracy (from suggest) --------------------------------------------------------------

_memo: dict[tuple[int, str], tuple[float, str]] = {}  # state id -> (when, version alerted or "")


def _state_id(t: Target, project_id: str) -> str:
    return f"{t.key}|{project_id}|accuracy"


def after_surrogate_check(deps: Deps, project_id: str, accuracy: dict[str, Any] | None) -> None:
    """`accuracy`: the registered model (`describe()`) with its `recent_auc` on the runs it has not
    seen, or None when there was no comparison. Emits `surrogate.accuracy_low` per target whose
    threshold the AUC is below and that has not been told about this version yet."""
    if accuracy is None or accuracy.get("recent_auc") is None:
        return
    targets = [t for t in targets_of(deps, project_id) if SURROGATE_ACCURACY_LOW in t.events]
    if not targets:
        return
    auc, version = float(accuracy["recent_auc"]), str(accuracy["model_version_id"])
    now = time.monotonic()
    docs = deps.store.docs
    for t in targets:
        sid = _state_id(t, project_id)
        key = (id(deps.store), sid)
        low = auc < t.accuracy_threshold
        memo = _memo.get(key)
        known = memo[1] if memo is not None and now - memo[0] < MEMO_TTL_S else None
        if known is not None and known == (version if low else ""):
            continue  # the mark already says what this observation would write
        mark = docs.get(STATE, sid)
        alerted = str(mark.data.get("version_id", "")) if mark is not None else ""
        if not low:
            if mark is not None:
                docs.delete(STATE, sid)  # recovered: the next drop is news again
                _memo.pop(key, None)  # known again only once read back (the write may roll back)
            else:
                _memo[key] = (now, "")
            continue
        if alerted == version:
            _memo[key] = (now, version)
            continue
        _memo.pop(key, None)
        data = {"version_id": version, "auc": auc, "at": deps.clock()}
        if mark is None:
            docs.create(Doc(STATE, sid, STATE_SCOPE, sid, data))
        else:
            docs.replace(Doc(STATE, sid, STATE_SCOPE, sid, data), mark.rev)
        event = {**accuracy, "recent_auc": round(auc, 4), "threshold": t.accuracy_threshold}
        emit(deps, project_id, SURROGATE_ACCURACY_LOW, event, only=_target_is(t.key))
