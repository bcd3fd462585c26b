"""runs:ingest — outcomes of suggested tests come back.

Runners retry: a network blip must not double-count a run, so an identical resend is recognised by
its fingerprint and counted as a duplicate. A run is a fact, so a *different* second report for the
same test is refused instead of overwriting history that coverage and learning already used.
Everything accepted from one request lands in one transaction with its audit record.

Reruns keep that rule: an item with `rerun_of: <test id>` reports a run of the same params under a
new `test_id`, and creates that test row (the original's params and generator, operator "rerun",
`suggestion_id` "rerun-of:<original id>"; a rerun of a rerun links to the first original) in the
same transaction as its run. History stays one run per test, and `optiloop.testopt.flaky` reads
the disagreeing outcomes of identical params as flakiness. A resend of the same rerun (same new
test_id, same payload) is a duplicate like any resend.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, Contended, FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.store.records import Run, TestCase
from optiloop.testopt import webhook_events
from optiloop.testopt.coverage.buckets import (
    MAX_BUCKETS_PER_RUN,
    Bucket,
    bucket_problem,
    canonical,
    from_coverage_py,
    size_problem,
)
from optiloop.testopt.flaky import RERUN_LINK, RERUN_OPERATOR, rerun_of
from optiloop.testopt.history import history_for

MAX_RUNS_PER_REQUEST = 1000
MAX_SEVERITY = 10

# Serialises ingest per project inside one process so seq numbers and new-bucket counts are computed
# against a stable history. Across processes the store's uniqueness of (project, test) is the guard.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(project_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(project_id, threading.Lock())


@dataclass(frozen=True)
class RunReport:
    test_id: str
    status: str
    duration_ms: float = 0.0
    cost_cents: float = 0.0
    failure_severity: int = 0
    buckets_hit: Sequence[Bucket] = field(default_factory=tuple)
    rerun_of: str | None = None  # a rerun: test_id is a new test with this test's params

    @classmethod
    def from_outcome(cls, test_id: str, o: dict[str, Any]) -> RunReport:
        """From one item of the runs:ingest body (test_id aside), as runners and simulators emit it.
        A coverage.py report under `coverage_delta.coverage_py` adds its line and branch buckets."""
        delta = o.get("coverage_delta", {})
        buckets = list(delta.get("buckets_hit", ()))
        if delta.get("coverage_py") is not None:
            try:
                buckets += from_coverage_py(delta["coverage_py"])
            except ValueError as e:
                raise InvalidInput(FieldProblem("coverage_delta.coverage_py", str(e))) from None
        return cls(
            test_id=test_id,
            status=o["status"],
            duration_ms=o.get("duration_ms", 0.0),
            cost_cents=o.get("cost_cents", 0.0),
            failure_severity=o.get("failure_severity", 0),
            buckets_hit=buckets,
            rerun_of=o.get("rerun_of"),
        )


def fingerprint(r: RunReport) -> str:
    """sha256 of the canonical payload: the same run resent in another key or bucket order matches."""
    canon = {
        "test_id": r.test_id,
        "status": r.status,
        "duration_ms": float(r.duration_ms),
        "cost_cents": float(r.cost_cents),
        "failure_severity": int(r.failure_severity),
        "buckets_hit": list(canonical(r.buckets_hit)),
    }
    if r.rerun_of is not None:  # only then: the fingerprints of plain runs stay what they were
        canon["rerun_of"] = r.rerun_of
    return hashlib.sha256(json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _validate(reports: Sequence[RunReport]) -> None:
    """Range checks for callers that bypass the HTTP models (the demo, workers); the API catches these
    earlier. numbers.Integral/Real so numpy scalars from a simulator are accepted like ints and floats."""
    probs: list[FieldProblem] = []
    if len(reports) > MAX_RUNS_PER_REQUEST:
        probs.append(FieldProblem("runs", f"at most {MAX_RUNS_PER_REQUEST} runs per request"))
    for i, r in enumerate(reports[:MAX_RUNS_PER_REQUEST]):
        p = f"runs[{i}]"
        if r.rerun_of is not None and (not isinstance(r.rerun_of, str) or not 1 <= len(r.rerun_of) <= 128):
            probs.append(FieldProblem(f"{p}.rerun_of", "must be a test id (1 to 128 characters)"))
        elif r.rerun_of is not None and r.rerun_of == r.test_id:
            probs.append(
                FieldProblem(f"{p}.rerun_of", "names the run's own test_id; a rerun needs a new test_id")
            )
        if r.status not in ("pass", "fail", "skipped"):
            probs.append(FieldProblem(f"{p}.status", "must be 'pass', 'fail' or 'skipped'"))
        for name in ("duration_ms", "cost_cents"):
            v = getattr(r, name)
            if not isinstance(v, Real) or isinstance(v, bool) or not (0 <= float(v) < float("inf")):
                probs.append(FieldProblem(f"{p}.{name}", "must be a finite number >= 0"))
        sev = r.failure_severity
        if not isinstance(sev, Integral) or isinstance(sev, bool) or not 0 <= sev <= MAX_SEVERITY:
            probs.append(FieldProblem(f"{p}.failure_severity", f"must be an integer 0..{MAX_SEVERITY}"))
        if len(r.buckets_hit) > MAX_BUCKETS_PER_RUN:
            probs.append(
                FieldProblem(f"{p}.coverage_delta.buckets_hit", f"at most {MAX_BUCKETS_PER_RUN} buckets")
            )
        else:
            bad = next(((j, why) for j, b in enumerate(r.buckets_hit) if (why := bucket_problem(b))), None)
            if bad is not None:
                probs.append(FieldProblem(f"{p}.coverage_delta.buckets_hit[{bad[0]}]", bad[1]))
            elif why := size_problem(r.buckets_hit):
                probs.append(FieldProblem(f"{p}.coverage_delta.buckets_hit", why))
    if probs:
        raise InvalidInput(probs)


WRITE_ATTEMPTS = 3


def ingest_runs(
    deps: Deps, principal: Principal, project_id: str, reports: Sequence[RunReport]
) -> dict[str, Any]:
    _validate(reports)
    budget_cents = get_project(deps, project_id).budget_cents
    store = deps.store
    # The reads (existing runs, seen buckets, next seq) and the writes share one transaction: on SQLite
    # it holds the write lock from the first read, so a concurrent ingest from another process cannot
    # slip in between and claim the same seq or the same "new" buckets. DynamoDB has no such lock: the
    # loser's conditional write raises Conflict, and the request is judged again on the new history
    # (a run the other writer stored for the same test then counts as a duplicate or a conflict).
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with _lock_for(project_id), store.transaction():
                return _ingest_once(deps, principal, project_id, reports, budget_cents)
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                # Contended: a 409 with Retry-After naming the project's run numbers and audit chain
                raise Contended(
                    "other writers kept taking this project's next run numbers; retry the request",
                    contended=f"the run seq counter and audit chain of project '{project_id}'",
                ) from None
    raise AssertionError("unreachable")


def _ingest_once(
    deps: Deps,
    principal: Principal,
    project_id: str,
    reports: Sequence[RunReport],
    budget_cents: float | None = None,
) -> dict[str, Any]:
    store = deps.store

    ids = list(dict.fromkeys([r.test_id for r in reports] + [r.rerun_of for r in reports if r.rerun_of]))
    tests = store.tests.get_many(project_id, ids)
    existing = store.runs.get_many(project_id, ids)
    history = history_for(store, project_id, deps.blobs)
    seen_before = history.buckets_seen
    rejected: list[dict[str, Any]] = []
    accepted: list[Run] = []
    in_request: dict[str, str] = {}  # test id -> fingerprint accepted earlier in this request
    new_in_request: set[int | str] = set()
    duplicates = 0
    seq = store.runs.max_seq(project_id)
    now = deps.clock()
    new_tests: list[TestCase] = []  # rerun rows, written with their runs
    test_seq = store.tests.max_seq(project_id) if any(r.rerun_of for r in reports) else 0

    def reject(i: int, r: RunReport, reason: str, name: str = "test_id") -> None:
        rejected.append({"index": i, "test_id": r.test_id, "field": f"runs[{i}].{name}", "reason": reason})

    for i, r in enumerate(reports):
        fp = fingerprint(r)
        if r.rerun_of is not None:
            original = tests.get(r.rerun_of)
            if original is None:
                reject(i, r, "no such test in this project", "rerun_of")
                continue
            root = rerun_of(original.suggestion_id) if original.operator == RERUN_OPERATOR else None
            root = root or original.id
            mine = tests.get(r.test_id)
            if mine is not None and rerun_of(mine.suggestion_id) != root:
                reject(
                    i,
                    r,
                    f"names an existing test that is not a rerun of {root!r}; a rerun needs a new test_id",
                )
                continue
            if mine is None:
                test_seq += 1
                mine = tests[r.test_id] = TestCase(
                    id=r.test_id,
                    project_id=project_id,
                    seq=test_seq,
                    params=dict(original.params),
                    score=0.0,
                    generator=original.generator,
                    operator=RERUN_OPERATOR,
                    suggestion_id=f"{RERUN_LINK}{root}",
                    predicted_cost=original.predicted_cost,
                    created_at=now,
                    space_version=original.space_version,
                )
                new_tests.append(mine)
        if r.test_id not in tests:
            reject(i, r, "no such test in this project")
            continue
        prior = existing.get(r.test_id)
        if prior is not None:
            if prior.fingerprint == fp:
                duplicates += 1
            else:
                reject(i, r, "the test already has a run; runs are immutable")
            continue
        if r.test_id in in_request:
            if in_request[r.test_id] == fp:
                duplicates += 1
            else:
                reject(
                    i,
                    r,
                    "a different run for this test appears earlier in this request; runs are immutable",
                )
            continue
        buckets = canonical(r.buckets_hit)
        fresh = {b for b in buckets if b not in seen_before and b not in new_in_request}
        new_in_request |= fresh
        seq += 1
        in_request[r.test_id] = fp
        accepted.append(
            Run(
                test_id=r.test_id,
                project_id=project_id,
                seq=seq,
                status=r.status,  # type: ignore[arg-type]
                duration_ms=float(r.duration_ms),
                cost_cents=float(r.cost_cents),
                failure_severity=int(r.failure_severity),
                buckets=buckets,
                new_buckets=len(fresh),
                ingested_at=now,
                fingerprint=fp,
            )
        )

    if not accepted and not duplicates and rejected:
        raise InvalidInput(
            [
                FieldProblem(x["field"], x["reason"], extra={"index": x["index"], "test_id": x["test_id"]})
                for x in rejected
            ],
            message=f"no run was accepted: {len(rejected)} rejected",
        )
    if accepted:
        if new_tests:  # every new rerun row has its run among `accepted` (nothing rejects it after)
            store.tests.add_many(new_tests)
        store.runs.add_many(accepted)
        store.audit.append(
            principal=principal.name,
            action="runs.ingested",
            project_id=project_id,
            target=None,
            details={
                "accepted": len(accepted),
                "duplicates": duplicates,
                "rejected": len(rejected),
                "new_buckets": len(new_in_request),
                "reruns": len(new_tests),
                "first_seq": accepted[0].seq,
                "last_seq": accepted[-1].seq,
                "key_id": principal.key_id,
            },
        )
        # webhook events (new failure mode, budget, plateau) join this transaction: see the module
        webhook_events.after_ingest(deps, project_id, budget_cents, history, accepted)
    return {
        "accepted": len(accepted),
        "duplicates": duplicates,
        "rejected": rejected,
        "new_buckets": len(new_in_request),
        "total_buckets": len(seen_before) + len(new_in_request),
    }
