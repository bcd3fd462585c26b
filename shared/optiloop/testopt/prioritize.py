"""tests:prioritize — order a team's existing test cases for a time-boxed CI run.

A suite that takes two hours does not fit a ten-minute CI box; what should run first? Each case
is scored by what the project's history predicts it finds — failures (severity-weighted, from the
runs of its nearest neighbours among the tests already run) and new coverage (how far it is from
everything run, times what runs find lately) — per unit of cost (its last duration, else the cost
its neighbours had), and ordered greedily: after a case is taken, the coverage value of cases
near it is discounted (two tests of the same corner rarely find twice as much), so the front of
the list is both valuable and varied. Each cut-off carries the expected failures and coverage
reached by then, which is what a runner with a time box needs to pick its cut.

Cases that failed last time keep a high failure estimate (a regression or a flaky test is what a
CI run is for); cases far from everything run get the project's base failure rate, not zero.
Before the project has 16 runs there is no estimate: novelty and last outcomes decide.

Each case also carries `flaky_probability`: the posterior mean flake rate of its params, from the
project's runs of identical params (reruns, repeats; see `optiloop.testopt.flaky`). It is reported,
not used in the order, so a project without reruns is ordered exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.testopt.diversity.distance import min_dist_to, sq_dists
from optiloop.testopt.flaky import flaky_probability
from optiloop.testopt.history import history_for
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies.context import MIN_RUNS_FOR_MODEL
from optiloop.testopt.strategies.state import state_for

MAX_CASES = 10_000
NEIGHBOURS_FROM = 5_000  # the newest runs the estimates are read from (bounded work per request)
NOVEL_AT = 0.25  # distance (normalised) beyond which a case counts as wholly new ground
GREEDY = 1_000  # the front of the list is ordered with diversity; the tail by score alone
LAST_FAIL_PRIOR = 0.5  # failure probability kept by a case that failed on its last run
OBJECTIVES = {"balanced": (0.5, 0.5), "failures": (0.9, 0.1), "coverage": (0.1, 0.9)}


@dataclass(frozen=True)
class Case:
    id: str
    params: Mapping[str, Any]
    last_status: str | None = None  # "pass" | "fail" | "skipped"
    duration_ms: float | None = None


def prioritize(
    deps: Deps,
    project_id: str,
    cases: Sequence[Case],
    objective: str = "balanced",
    budget_ms: float | None = None,
) -> dict[str, Any]:
    get_project(deps, project_id)
    if objective not in OBJECTIVES:
        raise InvalidInput(FieldProblem("objective", f"one of {sorted(OBJECTIVES)}"))
    if not 1 <= len(cases) <= MAX_CASES:
        raise InvalidInput(FieldProblem("tests", f"between 1 and {MAX_CASES} test cases"))
    space = space_for(deps.store, project_id)
    _check(space, cases)
    h = history_for(deps.store, project_id)
    st = state_for(id(deps.store), project_id, space, h)
    with st.lock:
        st.sync(h)
        U = space.snap(space.encode_dicts([dict(c.params) for c in cases]))
        E = st.emb(U)
        feasible = space.feasible(space.decode(U))
        tids = h.run_order[-NEIGHBOURS_FROM:]
        H = compaction.embed(st, h, [t for t in tids if t in h.test_index])
        runs = [h.runs[t] for t in tids if t in h.test_index]
    near = min_dist_to(E, H) if len(H) else np.full(len(cases), np.inf)
    novelty = np.where(np.isfinite(near), np.minimum(near / NOVEL_AT, 1.0), 1.0)
    if len(runs) >= MIN_RUNS_FOR_MODEL:
        y_fail = np.array([min(r.failure_severity, 5) / 5 if r.status == "fail" else 0.0 for r in runs])
        y_cost = np.array([max(r.cost_cents, 0.0) for r in runs])
        fail = knn_mean(E, H, y_fail)
        cost_pred = np.maximum(knn_mean(E, H, y_cost), 0.01)
        recent = float(np.mean([r.new_buckets for r in runs[-200:]]))
        cov = novelty * max(recent, 0.05)
        model = f"knn-{len(runs)} runs"
    else:
        cov = novelty
        fail = np.full(len(cases), 0.1)
        cost_pred = np.ones(len(cases))
        model = "none (fewer than 16 runs: novelty and last outcomes)"
    last_fail = np.array([c.last_status == "fail" for c in cases])
    fail = np.where(last_fail, np.maximum(fail, LAST_FAIL_PRIOR), fail)
    dur = np.array([c.duration_ms if c.duration_ms is not None else np.nan for c in cases], dtype=float)
    known = np.isfinite(dur)
    # cost in one unit: milliseconds when the case says, else the predicted cost scaled to the
    # median known duration (1 when nothing is known: then the order is by value alone)
    scale = float(np.median(dur[known]) / np.median(cost_pred[known])) if known.any() else 1.0
    cost = np.where(known, np.maximum(dur, 1.0), cost_pred * scale)
    wf, wc = OBJECTIVES[objective]
    order = _greedy(E, wf * fail, wc * cov, cost)
    flaky = flaky_probability(h, [c.params for c in cases])
    out: list[dict[str, Any]] = []
    t, ef, ec = 0.0, 0.0, 0.0
    for rank, i in enumerate(order, start=1):
        t += float(cost[i])
        ef += float(fail[i])
        ec += float(cov[i])
        if budget_ms is not None and t > budget_ms and out:
            break
        out.append(
            {
                "id": cases[i].id,
                "rank": rank,
                "predicted_failure": round(float(fail[i]), 4),
                "predicted_new_buckets": round(float(cov[i]), 4),
                "expected_duration_ms": round(float(cost[i]), 3) if known[i] or scale != 1.0 else None,
                "feasible": bool(feasible[i]),
                "flaky_probability": flaky[i],
                "cumulative": {
                    "duration_ms": round(t, 3) if known.any() else None,
                    "expected_failures": round(ef, 4),
                    "expected_new_buckets": round(ec, 4),
                },
            }
        )
    return {
        "project_id": project_id,
        "objective": objective,
        "model": model,
        "count": len(out),
        "of": len(cases),
        "order": out,
    }


def knn_mean(E: np.ndarray, H: np.ndarray, y: np.ndarray, k: int = 10) -> np.ndarray:
    """Distance-weighted mean of y over each row's k nearest run tests, shrunk towards the mean of
    y (two pseudo-neighbours) so a case far from everything run gets the base rate, not a guess."""
    k = min(k, len(H))
    base = float(y.mean())
    out = np.empty(len(E))
    for lo in range(0, len(E), 1000):  # bounded memory: 1000 x 5000 distances at a time
        D = sq_dists(E[lo : lo + 1000], H)
        idx = np.argpartition(D, k - 1, axis=1)[:, :k]
        w = 1.0 / (np.sqrt(np.take_along_axis(D, idx, axis=1)) + 0.05)
        out[lo : lo + 1000] = ((w * y[idx]).sum(axis=1) + 2.0 * base * w.mean(axis=1)) / (
            w.sum(axis=1) + 2.0 * w.mean(axis=1)
        )
    return out


def _greedy(E: np.ndarray, fail: np.ndarray, cov: np.ndarray, cost: np.ndarray) -> list[int]:
    """Best value per cost first; a taken case discounts the coverage value of its neighbours."""
    static = (fail + cov) / cost
    front = np.argsort(-static, kind="stable")
    head, tail = front[:GREEDY], front[GREEDY:]
    taken: list[int] = []
    near = np.full(len(head), np.inf)
    left = np.ones(len(head), dtype=bool)
    Eh = E[head]
    for _ in range(len(head)):
        discount = np.where(np.isfinite(near), np.minimum(near / NOVEL_AT, 1.0), 1.0)
        value = np.where(left, (fail[head] + cov[head] * discount) / cost[head], -np.inf)
        j = int(np.argmax(value))
        taken.append(int(head[j]))
        left[j] = False
        near = np.minimum(near, np.sqrt(((Eh - Eh[j]) ** 2).sum(axis=1)))
    return taken + [int(i) for i in tail]


def _check(space: Any, cases: Sequence[Case]) -> None:
    """Every case names only known params, with values of the right kind and in range, and gives
    every param that is not conditional: an absent one would be scored (and judged feasible) at the
    middle of its range, a test nobody wrote."""
    probs: list[FieldProblem] = []
    params = {p.name: p for p in space.params}
    required = [p.name for p in space.params if p.active_if is None]
    ids: set[str] = set()
    for i, c in enumerate(cases):
        if c.id in ids:
            probs.append(FieldProblem(f"tests[{i}].id", f"repeats id {c.id!r}"))
        ids.add(c.id)
        for name in required:
            if name not in c.params:
                probs.append(FieldProblem(f"tests[{i}].params.{name}", "is required (not conditional)"))
        for name, v in c.params.items():
            p = params.get(name)
            where = f"tests[{i}].params.{name}"
            if p is None:
                probs.append(FieldProblem(where, "not a parameter of this project's space"))
            elif p.type == "boolean":
                if not isinstance(v, bool):
                    probs.append(FieldProblem(where, "must be true or false"))
            elif p.type == "string":
                if v not in (p.enum or ()):
                    probs.append(FieldProblem(where, f"must be one of {list(p.enum or ())}"))
            elif isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
                probs.append(FieldProblem(where, "must be a number"))
            elif not p.low <= v <= p.high or (p.type == "integer" and v != int(v)):
                kind = "an integer" if p.type == "integer" else "a number"
                probs.append(FieldProblem(where, f"must be {kind} in [{p.low:g}, {p.high:g}]"))
        if len(probs) >= 50:
            break
    if probs:
        raise InvalidInput(probs)
