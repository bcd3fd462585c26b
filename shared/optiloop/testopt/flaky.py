"""Flakiness from runs of identical params: reruns (`runs:ingest` items with `rerun_of`) and repeats.

One run per test stays the rule; a rerun is a new test row with the original's params (operator
"rerun", `suggestion_id` "rerun-of:<original test id>"), so the runs of one test's params are the
runs of every row that carries them. Params whose pass/fail outcomes disagree are flaky.

The flake rate of a params group is the chance that one of its runs gives the group's minority
outcome (for a test failing 1 run in 4, 0.25; for a deterministic one, 0). With n pass/fail runs of
which k gave the minority outcome, its posterior is Beta(PRIOR_A + k, PRIOR_B + n - k) — a weak
prior of mean 0.05 worth 10 runs, as most tests are not flaky — and the estimate is its mean.
Skipped runs say nothing about the outcome and are left out. Params never run get the prior mean.

Counts are folded in from `History.run_order` incrementally (O(new runs) per call) and kept on the
cached history, so neither the coverage report nor prioritisation re-reads the whole history.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optiloop.testopt.history import History, canonical

PRIOR_A = 0.5
PRIOR_B = 9.5
MAX_LISTED = 100  # flaky params groups in the coverage report, highest flake rate first
MAX_IDS = 20  # test ids listed per group

RERUN_OPERATOR = "rerun"
RERUN_LINK = "rerun-of:"  # suggestion_id prefix of a rerun row, followed by the original's test id


@dataclass
class Group:
    params: dict[str, Any]
    passes: int = 0
    fails: int = 0
    test_ids: list[str] = field(default_factory=list)

    @property
    def minority(self) -> int:
        return min(self.passes, self.fails)

    @property
    def runs(self) -> int:
        return self.passes + self.fails


@dataclass
class Counts:
    upto: int = 0  # how many of run_order are folded in
    groups: dict[str, Group] = field(default_factory=dict)
    flaky: set[str] = field(default_factory=set)  # keys of groups with disagreeing outcomes
    repeated: list[str] = field(default_factory=list)  # keys of groups run twice or more, in that order
    reruns: int = 0


_lock = threading.Lock()


def posterior(runs: int, minority: int) -> tuple[float, float]:
    """Beta parameters of the flake rate after `runs` pass/fail runs, `minority` of them the rarer outcome."""
    return PRIOR_A + minority, PRIOR_B + runs - minority


def flake_rate(runs: int, minority: int) -> float:
    a, b = posterior(runs, minority)
    return a / (a + b)


def rerun_of(suggestion_id: str) -> str | None:
    """The original test id a rerun row links to, or None for a test that is not a rerun."""
    return suggestion_id[len(RERUN_LINK) :] if suggestion_id.startswith(RERUN_LINK) else None


def counts(h: History) -> Counts:
    """The history's per-params counts, brought up to date with its runs."""
    with _lock:
        c = h.flaky_counts
        if not isinstance(c, Counts):
            c = h.flaky_counts = Counts()
        for tid in h.run_order[c.upto :]:
            r = h.runs[tid]
            i = h.test_index.get(tid)
            c.upto += 1
            if i is None:
                continue
            t = h.tests[i]
            if t.operator == RERUN_OPERATOR:
                c.reruns += 1
            if r.status not in ("pass", "fail"):
                continue
            key = canonical(t.params)
            g = c.groups.get(key)
            if g is None:
                g = c.groups[key] = Group(params=t.params)
            if r.status == "fail":
                g.fails += 1
            else:
                g.passes += 1
            if g.runs == 2:
                c.repeated.append(key)
            if len(g.test_ids) < MAX_IDS:
                g.test_ids.append(tid)
            if g.minority:
                c.flaky.add(key)
        return c


def flaky_probability(h: History, params: list[Mapping[str, Any]]) -> list[float]:
    """The flake rate's posterior mean for each params (the prior mean where none were run)."""
    c = counts(h)
    out = []
    for p in params:
        g = c.groups.get(canonical(dict(p)))
        out.append(round(flake_rate(g.runs, g.minority) if g else flake_rate(0, 0), 4))
    return out


def flaky_report(h: History) -> dict[str, Any]:
    """The coverage report's `flaky` section: params groups whose outcomes disagree."""
    c = counts(h)
    rows: list[dict[str, Any]] = []
    for key in c.flaky:
        g = c.groups[key]
        a, b = posterior(g.runs, g.minority)
        rows.append(
            {
                "params": g.params,
                "test_ids": list(g.test_ids),
                "runs": g.runs,
                "passes": g.passes,
                "fails": g.fails,
                "flake_rate": round(a / (a + b), 4),
                "posterior": {"alpha": a, "beta": b},
            }
        )
    rows.sort(key=lambda x: (-x["flake_rate"], -x["runs"], canonical(x["params"])))
    multi = sum(1 for g in c.groups.values() if g.runs >= 2)
    return {
        "reruns": c.reruns,
        "params_run_more_than_once": multi,
        "flaky_params": len(c.flaky),
        "prior": {"alpha": PRIOR_A, "beta": PRIOR_B},
        "groups": rows[:MAX_LISTED],
    }
