"""The Pareto front of a suggest call's candidate pool, and a batch cut from it (`"pareto"` in
tests:suggest).

A weighted score answers "which tests, for these weights"; a team deciding what a CI run should
spend its time on first wants the trade itself: which tests find new coverage, which are likely
to fail, which are quick, which give outcomes one can trust. Every candidate of the pool (all
operators' proposals, made feasible and deduplicated, before any is chosen) is valued on the
requested objectives, sorted into non-dominated fronts (`optiloop.testopt.pareto`), and the first
front is returned with each member's values. On request the batch itself is taken from the fronts
in order — the last front used cut by crowding distance (NSGA-II), or ordered by a weighted sum of
the objectives — instead of by the per-operator slots; each test still carries the operator that
proposed it, so the hybrid bandit credits its runs as usual.

Objectives (goal): `coverage_gain` (max; the suggest score's coverage term, normalised in the
call), `failure_prob` (max; the surrogate's, or the registered model's, failure probability),
`cost` (min; predicted cents), `duration_ms` (min; distance-weighted mean duration of the nearest
logged runs, as tests:prioritize predicts cost), `flakiness` (min; the flake-rate posterior of
`optiloop.testopt.flaky` with the evidence of nearby params run more than once, weighted by
closeness — a new test near params that flip between pass and fail is likely to flip too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem
from optiloop.testopt import flaky
from optiloop.testopt.diversity.distance import sq_dists
from optiloop.testopt.pareto import (
    crowding_by_front,
    non_dominated_ranks,
    select_crowding,
    select_scalarised,
)
from optiloop.testopt.prioritize import knn_mean
from optiloop.testopt.space import Space
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies.context import MIN_RUNS_FOR_MODEL, SuggestContext

GOALS: dict[str, str] = {
    "coverage_gain": "max",
    "failure_prob": "max",
    "cost": "min",
    "duration_ms": "min",
    "flakiness": "min",
}
DEFAULT_OBJECTIVES = ("coverage_gain", "failure_prob", "duration_ms", "flakiness")
SELECTS = ("none", "crowding", "scalarise")
MAX_FRONT = 500  # members listed in one answer (the largest batch)
PARETO_POOL_PER_SLOT = 4  # proposals per batch slot from every operator when a front is asked for
MAX_POOL = 2000  # candidates sorted (O(n^2)): the best-scoring ones when a pool is larger
NEIGHBOUR_RUNS = 2000  # the newest runs durations are read from
FLAKY_GROUPS = 1000  # the newest params groups run more than once that flakiness is read from
FLAKY_LENGTHSCALE = 0.1  # normalised distance at which a group's evidence weighs exp(-1/2)


@dataclass(frozen=True)
class ParetoSpec:
    """What the request asked for: the objectives, how (whether) to take the batch from the
    fronts, the scalarisation weights (one per objective), and how many front members to list."""

    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    select: str = "none"
    weights: tuple[float, ...] | None = None
    max_front: int = 100


def validate(spec: ParetoSpec) -> list[FieldProblem]:
    """Problems with a spec, each naming its field under `pareto`."""
    probs: list[FieldProblem] = []
    unknown = [o for o in spec.objectives if o not in GOALS]
    if unknown:
        probs.append(
            FieldProblem("pareto.objectives", f"unknown objective {unknown[0]!r}; one of {list(GOALS)}")
        )
    if len(set(spec.objectives)) != len(spec.objectives):
        probs.append(FieldProblem("pareto.objectives", "each objective may appear once"))
    if len(spec.objectives) < 2:
        probs.append(FieldProblem("pareto.objectives", "a front needs at least two objectives"))
    if spec.select not in SELECTS:
        probs.append(FieldProblem("pareto.select", f"one of {list(SELECTS)}"))
    if spec.weights is not None:
        if spec.select != "scalarise":
            probs.append(FieldProblem("pareto.weights", "weights apply only with select 'scalarise'"))
        elif len(spec.weights) != len(spec.objectives):
            probs.append(
                FieldProblem("pareto.weights", f"needs one weight per objective ({len(spec.objectives)})")
            )
        elif any(not np.isfinite(w) or w < 0 for w in spec.weights) or not sum(spec.weights) > 0:
            probs.append(FieldProblem("pareto.weights", "weights must be finite, >= 0, and not all 0"))
    if not 1 <= spec.max_front <= MAX_FRONT:
        probs.append(FieldProblem("pareto.max_front", f"must be between 1 and {MAX_FRONT}"))
    return probs


@dataclass
class Front:
    """The sorted pool: objective values, front ranks and crowding distances per candidate."""

    spec: ParetoSpec
    rows: np.ndarray  # pool indices that were sorted (all, or the MAX_POOL best-scoring)
    values: dict[str, np.ndarray]  # per objective, over `rows`
    ranks: np.ndarray
    crowding: np.ndarray
    pool_size: int

    def minimised(self) -> np.ndarray:
        return _minimised(self.spec, self.values)

    def choose(self, k: int) -> list[int]:
        """Pool indices of the batch: fronts in order, cut by crowding or by the weighted sum."""
        if self.spec.select == "scalarise":
            w = np.asarray(self.spec.weights or [1.0] * len(self.spec.objectives), dtype=np.float64)
            pick = select_scalarised(self.minimised(), self.ranks, w / w.sum(), k)
        else:
            pick = select_crowding(self.ranks, self.crowding, k)
        return [int(self.rows[i]) for i in pick]

    def report(
        self, space: Space, pool: np.ndarray, ops: Sequence[str], test_ids: Mapping[int, str]
    ) -> dict[str, Any]:
        """The answer's `pareto` section. `pool` (unit points) and `ops` are per pool index,
        `test_ids` maps the pool indices that became tests of this batch to their ids."""
        first = np.flatnonzero(self.ranks == 0)
        first = first[np.lexsort((first, -self.crowding[first]))]  # ends and sparse stretches first
        listed = first[: self.spec.max_front]
        params = space.to_dicts(space.decode(pool[self.rows[listed]])) if len(listed) else []
        members = []
        for i, p in zip(listed, params, strict=True):
            row = int(self.rows[i])
            cd = float(self.crowding[i])
            members.append(
                {
                    "params": p,
                    "operator": ops[row],
                    "values": {o: round(float(self.values[o][i]), 6) for o in self.spec.objectives},
                    "crowding_distance": round(cd, 6) if np.isfinite(cd) else None,
                    "test_id": test_ids.get(row),
                }
            )
        return {
            "objectives": [{"name": o, "goal": GOALS[o]} for o in self.spec.objectives],
            "select": self.spec.select,
            "pool_size": self.pool_size,
            "sorted": len(self.rows),
            "fronts": int(self.ranks.max()) + 1 if len(self.ranks) else 0,
            "front_size": len(first),
            "front": members,
        }


def front(ctx: SuggestContext, spec: ParetoSpec, E: np.ndarray, scores: Mapping[str, np.ndarray]) -> Front:
    """Value the pool (embeddings E, the pipeline's per-candidate `scores`) and sort it."""
    n = len(E)
    rows = np.arange(n)
    if n > MAX_POOL:
        rows = np.sort(np.argsort(-scores["score"], kind="stable")[:MAX_POOL])
    values = {o: _objective(ctx, o, E[rows], scores, rows) for o in spec.objectives}
    F = _minimised(spec, values)
    ranks = non_dominated_ranks(F)
    return Front(spec, rows, values, ranks, crowding_by_front(F, ranks), n)


def _minimised(spec: ParetoSpec, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """(points, objectives), every objective turned into one to minimise."""
    return np.column_stack([values[o] * (-1.0 if GOALS[o] == "max" else 1.0) for o in spec.objectives])


def _objective(
    ctx: SuggestContext, name: str, E: np.ndarray, scores: Mapping[str, np.ndarray], rows: np.ndarray
) -> np.ndarray:
    if name in ("coverage_gain", "failure_prob", "cost"):
        return np.asarray(scores[name], dtype=np.float64)[rows]
    if name == "duration_ms":
        return predicted_duration(ctx, E)
    return predicted_flakiness(ctx, E)


def predicted_duration(ctx: SuggestContext, E: np.ndarray) -> np.ndarray:
    """Milliseconds: the nearest logged runs' durations, distance-weighted and shrunk to their mean
    (tests:prioritize's estimator); the mean logged duration before MIN_RUNS_FOR_MODEL runs, 0
    before any."""
    h = ctx.history
    tids = [t for t in h.run_order[-NEIGHBOUR_RUNS:] if t in h.test_index]
    y = np.array([max(h.runs[t].duration_ms, 0.0) for t in tids], dtype=np.float64)
    if len(y) < MIN_RUNS_FOR_MODEL:
        return np.full(len(E), float(y.mean()) if len(y) else 0.0)
    return np.maximum(knn_mean(E, compaction.embed(ctx.state, h, tids), y), 0.0)


def predicted_flakiness(ctx: SuggestContext, E: np.ndarray) -> np.ndarray:
    """The flake rate's posterior mean, with each params group run twice or more counting its runs
    at weight exp(-d^2 / 2l^2) by its distance d: the prior mean far from any rerun evidence."""
    h = ctx.history
    c = flaky.counts(h)
    groups = [c.groups[k] for k in c.repeated[-FLAKY_GROUPS:]]
    # each group is placed at one of its tests the history still holds
    found = [(g, next((t for t in g.test_ids if t in h.test_index), None)) for g in groups]
    pairs = [(g, t) for g, t in found if t is not None]
    if not pairs or not len(E):
        return np.full(len(E), flaky.flake_rate(0, 0))
    G = compaction.embed(ctx.state, h, [t for _, t in pairs])
    runs = np.array([g.runs for g, _ in pairs], dtype=np.float64)
    minority = np.array([g.minority for g, _ in pairs], dtype=np.float64)
    W = np.exp(-sq_dists(E, G) / (2.0 * FLAKY_LENGTHSCALE**2))
    a = flaky.PRIOR_A + W @ minority
    b = flaky.PRIOR_B + W @ (runs - minority)
    return np.asarray(a / (a + b))
