"""What the session learned about each suggested test, turned into runs:ingest items.

One suggested test may become several pytest items (the function is also parametrized over
browsers, say), but the API takes exactly one run per test, so the items of one test are folded:
it failed if any item failed (with the highest severity), passed if any passed and none failed,
and was skipped otherwise; durations and costs add up and buckets are united.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from optiloop.testopt.coverage.buckets import MAX_BUCKETS_PER_RUN, bucket_problem, size_problem

Status = Literal["pass", "fail", "skipped"]
Bucket = int | str
MAX_SEVERITY = 10
DEFAULT_FAILURE_SEVERITY = 1  # a failure without @pytest.mark.optiloop_severity(...) or optiloop_run.severity


def check_severity(value: object, where: str) -> int:
    """The severity or a ValueError naming where it came from (the API takes integers 0..10)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEVERITY:
        raise ValueError(f"{where}: severity must be an integer 0..{MAX_SEVERITY}, got {value!r}")
    return value


class RunNotes:
    """What a test tells the plugin about its run beyond pass/fail (the `optiloop_run` fixture).

    `buckets`: coverage buckets the run hit (ints 0..2^63-1, or strings such as 'checkout.py:42');
    `cost_cents`: what the run cost; `severity`: overrides the optiloop_severity marker for a failure
    whose severity depends on the case. Setting a bad cost or severity fails the test on that line."""

    def __init__(self) -> None:
        self.buckets: list[Bucket] = []
        self._cost_cents = 0.0
        self._severity: int | None = None

    @property
    def cost_cents(self) -> float:
        return self._cost_cents

    @cost_cents.setter
    def cost_cents(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (0 <= value < math.inf):
            raise ValueError(f"optiloop_run.cost_cents must be a finite number >= 0, got {value!r}")
        self._cost_cents = float(value)

    @property
    def severity(self) -> int | None:
        return self._severity

    @severity.setter
    def severity(self, value: int | None) -> None:
        self._severity = None if value is None else check_severity(value, "optiloop_run.severity")


@dataclass
class Outcome:
    """One pytest item's part of a run."""

    status: Status
    duration_ms: float
    severity: int = 0
    cost_cents: float = 0.0
    buckets: list[Bucket] = field(default_factory=list)


def clean_buckets(buckets: list[Any]) -> tuple[list[Bucket], list[str]]:
    """Distinct valid buckets in first-seen order, and why each dropped one was dropped.

    Checked here because one bad bucket would make the server refuse the whole request of up to
    1000 runs; dropping it (with a warning on the test that sent it) keeps the rest."""
    out: list[Bucket] = []
    seen: set[tuple[type, Bucket]] = set()
    problems: list[str] = []
    for b in buckets:
        why = bucket_problem(b)
        if why:
            problems.append(f"bucket {b!r:.80} dropped: {why}")
            continue
        key = (type(b), int(b) if not isinstance(b, str) else b)  # 1 and "1" are different buckets
        if key not in seen:
            seen.add(key)
            out.append(key[1])
    if len(out) > MAX_BUCKETS_PER_RUN:
        problems.append(
            f"{len(out) - MAX_BUCKETS_PER_RUN} buckets dropped: at most {MAX_BUCKETS_PER_RUN} per run"
        )
        out = out[:MAX_BUCKETS_PER_RUN]
    if why := size_problem(out):
        problems.append(f"all {len(out)} buckets dropped: {why}")
        out = []
    return out, problems


@dataclass
class Recorder:
    """Suggested tests of the session (by project) and the outcomes of those that ran."""

    expected: dict[str, str] = field(default_factory=dict)  # test id -> project id
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)

    def expect(self, project_id: str, test_id: str) -> None:
        self.expected[test_id] = project_id

    def record(self, test_id: str, outcome: Outcome) -> None:
        self.outcomes.setdefault(test_id, []).append(outcome)

    def not_run(self) -> int:
        """Suggested tests no item ran (deselected, --collect-only, an interrupted session)."""
        return sum(1 for t in self.expected if t not in self.outcomes)

    def runs_by_project(self) -> dict[str, list[dict[str, Any]]]:
        """runs:ingest items per project, in the order the tests were suggested."""
        out: dict[str, list[dict[str, Any]]] = {}
        for test_id, project_id in self.expected.items():
            parts = self.outcomes.get(test_id)
            if parts:
                out.setdefault(project_id, []).append(fold(test_id, parts))
        return out


def fold(test_id: str, parts: list[Outcome]) -> dict[str, Any]:
    """One run from the outcomes of every item of one suggested test."""
    statuses = {p.status for p in parts}
    status: Status = "fail" if "fail" in statuses else "pass" if "pass" in statuses else "skipped"
    severity = max((p.severity for p in parts if p.status == "fail"), default=0)
    buckets, _ = clean_buckets([b for p in parts for b in p.buckets])
    run: dict[str, Any] = {
        "test_id": test_id,
        "status": status,
        "duration_ms": round(sum(p.duration_ms for p in parts), 3),
        "cost_cents": sum(p.cost_cents for p in parts),
        "failure_severity": severity,
    }
    if buckets:
        run["coverage_delta"] = {"buckets_hit": buckets}
    return run
