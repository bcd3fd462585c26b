"""Replay: what a test-ordering policy would have reached on the project's own logged history.

`POST /v1/projects/{id}/replay` re-runs the logged tests (the newest MAX_REPLAY runs; the window
starts empty) in a policy's order and reads, at each budget (a number of tests, or milliseconds of
logged test time), the distinct buckets and the failures reached by then — the outcomes are the
logged ones, only the order changes. Two policies:

- `as_run`: ingestion order, i.e. what the team actually got.
- `prioritize`: the order `tests:prioritize` would give the same tests (kNN failure and cost
  estimates, novelty times recent gain, value per unit cost, greedy diversity), computed
  leave-future-out so the replay cannot peek at a test's own outcome. What the model knows when it
  picks the next tests: the params of every test in the window (as a team knows its suite), and the
  logged outcome, severity, duration and buckets of the tests replayed before the last refit —
  nothing of the tests not yet replayed: not their outcomes, not their durations (their cost is
  predicted from replayed neighbours, as for a case without `duration_ms`), not their buckets, and
  no `last_status` (that would be the run itself). The model is refit after every
  `replan_every` = ceil(n / 200) tests (at most 200 refits); between refits, the tests picked in a
  round are ordered with the same diversity discount as `tests:prioritize`. A rerun's outcome is
  known once any run of the same params was replayed: that run is past, not the rerun itself.

Work is bounded: nearest-neighbour lists are updated incrementally as tests are replayed, so the
whole replay costs O(n^2 d) for n <= 5,000 runs of d embedded dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.store.records import Run
from optiloop.testopt.diversity.distance import sq_dists
from optiloop.testopt.history import history_for
from optiloop.testopt.prioritize import NOVEL_AT, OBJECTIVES
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies.context import MIN_RUNS_FOR_MODEL
from optiloop.testopt.strategies.state import state_for

POLICIES = ("as_run", "prioritize")
UNITS = ("tests", "ms")
MAX_BUDGETS = 1000
MAX_REPLAY = 5000  # the newest runs replayed (bounded work per request)
REFITS = 200
K = 10  # neighbours of the failure and cost estimates, as in tests:prioritize
SEVERE = 3
MAX_IDS = 50  # failed test ids listed per budget (those first reached at that budget)

KNOWS = (
    "params of every replayed test; logged outcome, severity, duration and buckets of the tests "
    "replayed before the last refit; nothing of the tests not yet replayed"
)


def _validate(policy: str, unit: str, objective: str, budgets: Sequence[float]) -> None:
    probs: list[FieldProblem] = []
    if policy not in POLICIES:
        probs.append(FieldProblem("policy", f"unknown policy {policy!r}; one of {list(POLICIES)}"))
    if unit not in UNITS:
        probs.append(FieldProblem("unit", f"one of {list(UNITS)}"))
    if objective not in OBJECTIVES:
        probs.append(FieldProblem("objective", f"one of {sorted(OBJECTIVES)}"))
    if not 1 <= len(budgets) <= MAX_BUDGETS:
        probs.append(FieldProblem("budgets", f"between 1 and {MAX_BUDGETS} budgets"))
    else:
        prev = 0.0
        for i, b in enumerate(budgets):
            where = f"budgets[{i}]"
            if isinstance(b, bool) or not isinstance(b, int | float) or not math.isfinite(b) or b <= 0:
                probs.append(FieldProblem(where, "must be a finite number > 0"))
                break
            if unit == "tests" and b != int(b):
                probs.append(FieldProblem(where, "must be a whole number of tests (unit 'tests')"))
                break
            if b <= prev:
                probs.append(FieldProblem(where, "budgets must be strictly increasing"))
                break
            prev = float(b)
    if probs:
        raise InvalidInput(probs)


def replay(
    deps: Deps,
    project_id: str,
    policy: str,
    budgets: Sequence[float],
    unit: str = "tests",
    objective: str = "balanced",
) -> dict[str, Any]:
    get_project(deps, project_id)
    _validate(policy, unit, objective, budgets)
    h = history_for(deps.store, project_id)
    tids = [t for t in h.run_order[-MAX_REPLAY:] if t in h.test_index]
    runs = [h.runs[t] for t in tids]
    out: dict[str, Any] = {
        "project_id": project_id,
        "policy": policy,
        "unit": unit,
        "replayed": len(runs),
        "of": len(h.run_order),
    }
    if policy == "prioritize":
        out["objective"] = objective
        out["knows"] = KNOWS
        out["replan_every"] = max(1, math.ceil(len(runs) / REFITS))
    as_run = list(range(len(runs)))
    order = as_run
    if policy == "prioritize" and runs:
        space = space_for(deps.store, project_id)
        st = state_for(id(deps.store), project_id, space, h)
        with st.lock:
            st.sync(h)
            E = np.array(compaction.embed(st, h, tids), dtype=float)
        order = leave_future_out_order(E, runs, objective)
    curve = _curve(runs, order)
    base = _curve(runs, as_run) if policy != "as_run" else None
    total_b, total_f = curve["buckets"][-1], curve["failures"][-1]
    out["totals"] = {
        "tests": len(runs),
        "duration_ms": round(float(curve["duration"][-1]), 3),
        "buckets": total_b,
        "failures": total_f,
    }
    points: list[dict[str, Any]] = []
    prev_k = 0
    for b in budgets:
        k = (
            min(int(b), len(runs))
            if unit == "tests"
            else int(np.searchsorted(curve["duration"], b, "right")) - 1
        )
        p: dict[str, Any] = {
            "budget": int(b) if unit == "tests" else b,
            "tests": k,
            "duration_ms": round(float(curve["duration"][k]), 3),
            "buckets": curve["buckets"][k],
            "bucket_share": round(curve["buckets"][k] / total_b, 4) if total_b else None,
            "failures": curve["failures"][k],
            "severe_failures": curve["severe"][k],
            "failure_share": round(curve["failures"][k] / total_f, 4) if total_f else None,
            "failed_test_ids": [tids[i] for i in order[prev_k:k] if runs[i].status == "fail"][
                :MAX_IDS
            ],  # the failures first reached at this budget
        }
        if base is not None:
            kb = k if unit == "tests" else int(np.searchsorted(base["duration"], b, "right")) - 1
            p["as_run"] = {"tests": kb, "buckets": base["buckets"][kb], "failures": base["failures"][kb]}
        points.append(p)
        prev_k = max(prev_k, k)
    out["budgets"] = points
    return out


def _curve(runs: Sequence[Run], order: Sequence[int]) -> dict[str, list[Any]]:
    """Cumulative duration, distinct buckets, failures and severe failures after 0, 1, ... tests."""
    seen: set[int | str] = set()
    dur, buckets, fails, severe = [0.0], [0], [0], [0]
    for i in order:
        r = runs[i]
        seen.update(r.buckets)
        dur.append(dur[-1] + max(r.duration_ms, 0.0))
        buckets.append(len(seen))
        fails.append(fails[-1] + (r.status == "fail"))
        severe.append(severe[-1] + (r.status == "fail" and r.failure_severity >= SEVERE))
    return {"duration": dur, "buckets": buckets, "failures": fails, "severe": severe}


def leave_future_out_order(E: np.ndarray, runs: Sequence[Run], objective: str = "balanced") -> list[int]:
    """The tests:prioritize order of the logged tests, each round scored only on tests replayed before it."""
    n = len(runs)
    wf, wc = OBJECTIVES[objective]
    step = max(1, math.ceil(n / REFITS))
    y_fail = np.array([min(r.failure_severity, 5) / 5 if r.status == "fail" else 0.0 for r in runs])
    y_dur = np.array([max(r.duration_ms, 0.0) for r in runs])
    top_d = np.full((n, K), np.inf)  # squared distances to each test's nearest replayed tests
    top_i = np.zeros((n, K), dtype=np.int64)
    left = np.ones(n, dtype=bool)
    order: list[int] = []
    gains: list[int] = []  # new buckets of each replayed test, in replay order
    seen: set[int | str] = set()
    while len(order) < n:
        m = len(order)
        near = np.sqrt(top_d[:, 0])
        novelty = np.where(np.isfinite(near), np.minimum(near / NOVEL_AT, 1.0), 1.0)
        if m >= MIN_RUNS_FOR_MODEL:
            known = np.array(order)
            fail = _knn(top_d, top_i, y_fail, float(y_fail[known].mean()))
            cost = np.maximum(_knn(top_d, top_i, y_dur, float(y_dur[known].mean())), 1.0)
            cov = novelty * max(float(np.mean(gains[-200:])), 0.05)
        else:
            fail, cost, cov = np.full(n, 0.1), np.ones(n), novelty
        cand = np.flatnonzero(left)
        picked = _greedy_round(E[cand], wf * fail[cand], wc * cov[cand], cost[cand], step)
        new = cand[picked]
        for i in new:
            r = runs[int(i)]
            before = len(seen)
            seen.update(r.buckets)
            gains.append(len(seen) - before)
            order.append(int(i))
        left[new] = False
        # what the next round knows: fold the new tests into every test's neighbour list
        D = sq_dists(E, E[new])
        cat_d = np.hstack([top_d, D])
        cat_i = np.hstack([top_i, np.broadcast_to(new, (n, len(new)))])
        keep = (
            np.argpartition(cat_d, K - 1, axis=1)[:, :K] if cat_d.shape[1] > K else np.argsort(cat_d, axis=1)
        )
        top_d = np.take_along_axis(cat_d, keep, axis=1)
        top_i = np.take_along_axis(cat_i, keep, axis=1)
        srt = np.argsort(top_d, axis=1, kind="stable")
        top_d, top_i = np.take_along_axis(top_d, srt, axis=1), np.take_along_axis(top_i, srt, axis=1)
    return order


def _knn(top_d: np.ndarray, top_i: np.ndarray, y: np.ndarray, base: float) -> np.ndarray:
    """tests:prioritize's estimate: distance-weighted mean over the nearest replayed tests, shrunk
    towards the replayed mean with two pseudo-neighbours."""
    w = 1.0 / (np.sqrt(top_d) + 0.05)  # 0 where the list is not full yet (distance inf)
    wm = w.mean(axis=1)
    return ((w * y[top_i]).sum(axis=1) + 2.0 * base * wm) / (w.sum(axis=1) + 2.0 * wm)


def _greedy_round(E: np.ndarray, fail: np.ndarray, cov: np.ndarray, cost: np.ndarray, take: int) -> list[int]:
    """tests:prioritize's greedy: best value per cost first; a pick discounts its neighbours' coverage."""
    near = np.full(len(E), np.inf)
    avail = np.ones(len(E), dtype=bool)
    picked: list[int] = []
    for _ in range(min(take, len(E))):
        discount = np.where(np.isfinite(near), np.minimum(near / NOVEL_AT, 1.0), 1.0)
        value = np.where(avail, (fail + cov * discount) / cost, -np.inf)
        j = int(np.argmax(value))
        picked.append(j)
        avail[j] = False
        near = np.minimum(near, np.sqrt(((E - E[j]) ** 2).sum(axis=1)))
    return picked
