"""One batch: generate per operator, drop repeats, score on the objectives, select with diversity.

Scores are normalised per call so the user's objective weights mean "how much of the ranking
each objective decides", whatever the units. Repeats of any earlier test (pending ones too) are
dropped before scoring, so a second call with no ingest in between suggests new tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiloop.testopt.diversity.distance import min_dist_to
from optiloop.testopt.diversity.dpp import select_dpp
from optiloop.testopt.diversity.k_center import select_k_center
from optiloop.testopt.sampling.feasible import bisect_towards, feasible_mask
from optiloop.testopt.strategies import compaction
from optiloop.testopt.strategies.active import uncertainty
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.generators import Generator, apportion
from optiloop.testopt.strategies.multiobjective import PARETO_POOL_PER_SLOT, Front, ParetoSpec, front
from optiloop.testopt.strategies.operators import OPERATORS, Proposal, operator
from optiloop.testopt.strategies.state import point_key
from optiloop.testopt.surrogate.rff import predict_shared

SOFT_SCALE = 0.25
# The references: their points are taken as drawn (a quasi-random sequence is already spread out;
# re-ranking it by distance would pull it towards the corners, more so as dimension grows).
REFERENCE_OPS = frozenset({"uniform", "qmc"})
# Operators that order their proposals by their own criterion (best first): taken in that order too.
SELF_ORDERED_OPS = frozenset({"stratify"})
OPERATOR_TEXT = {
    "uniform": "uniform random sample",
    "qmc": "next point of the project's quasi-random (Sobol') sequence",
    "spread": "space-filling point with boundary and small-magnitude values",
    "stratify": "reaches cells of parameter pairs no earlier test reached (pairwise stratification)",
    "boundary": "boundary-value test (params at or next to their min/max)",
    "edge": "on the edge of the feasible region (a constraint or range bound is tight)",
    "mutate": "mutation of an earlier test that hit rare coverage buckets",
    "crossover": "crossover of two earlier tests that hit rare coverage buckets",
    "model": "chosen by the surrogate's upper confidence bound",
    "uncertainty": "where the surrogate committee disagrees most (active learning)",
    "rl": "a move of the project's trained RL policy (PPO, novelty reward) from an earlier test",
}
# plug-ins: "proposed by the generator plug-in '<name>'" (see rationale)


def _as_drawn(op: str) -> bool:
    """References and plug-ins are taken in the order they come: a plug-in's order is its own."""
    return op in REFERENCE_OPS or op in SELF_ORDERED_OPS or op.startswith("plugin:")


def _oversample(gen: Generator, op: str, pareto: ParetoSpec | None) -> int:
    """Proposals per slot. A Pareto front is only as good as its pool, so a request for one widens
    every operator's share of it (as-drawn operators still fill their slots from their first ones)."""
    over = 1 if _as_drawn(op) else gen.oversample
    return max(over, PARETO_POOL_PER_SLOT) if pareto is not None else over


@dataclass
class Batch:
    U: np.ndarray
    ops: list[str]
    score: np.ndarray
    coverage_gain: np.ndarray
    failure_prob: np.ndarray
    cost: np.ndarray
    new_pairs: np.ndarray
    nearest: np.ndarray
    weights: dict[str, float]
    model_used: bool
    # the surrogate committee's disagreement per test (None without a model: before 16 runs, or
    # for a model-free generator); the pool's Pareto front when the request asked for it
    uncertainty: np.ndarray | None = None
    pool_rows: np.ndarray | None = None  # each test's index in the candidate pool
    front: Front | None = None
    pool_U: np.ndarray | None = None  # the pool (for the front's params)
    pool_ops: list[str] | None = None


def _norm(x: np.ndarray) -> np.ndarray:
    if not len(x):
        return x
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def _unique_new(ctx: SuggestContext, C: np.ndarray, taken: set[bytes]) -> list[int]:
    """Rows of C that repeat no earlier test (pending ones included) and no earlier row of C."""
    keep = []
    for i, u in enumerate(C):
        k = point_key(u)
        if k in ctx.state.keys or k in taken:
            continue
        taken.add(k)
        keep.append(i)
    if keep and not ctx.state.complete:  # past the window: dropped tests are in the history's filter
        old = compaction.repeats(ctx.state, ctx.history, C[keep])
        keep = [i for i, again in zip(keep, old, strict=True) if not again]
    return keep


def resolve(ctx: SuggestContext, props: list[tuple[str, Proposal]]) -> tuple[np.ndarray, np.ndarray]:
    """Every operator's proposals made feasible in one pass: one feasibility check for all targets,
    one bisection for all that have an anchor, one snap. Returns the points and their operators."""
    d = ctx.space.dim
    T = np.vstack([p.targets for _, p in props]) if props else np.empty((0, d))
    A = (
        np.vstack(
            [p.anchors if p.anchors is not None else np.full(p.targets.shape, np.nan) for _, p in props]
        )
        if props
        else np.empty((0, d))
    )
    owner = np.array([op for op, p in props for _ in range(len(p.targets))], dtype=object)
    if not len(T):
        return T, owner
    ok = feasible_mask(ctx.space, T)
    fix = ~ok & ~np.isnan(A[:, 0])
    out = T.copy()
    if fix.any():
        out[fix] = bisect_towards(ctx.space, A[fix], T[fix])
    keep = ok | fix
    return ctx.space.snap(out[keep]), owner[keep]


def score(
    ctx: SuggestContext,
    gen: Generator,
    C: np.ndarray,
    E: np.ndarray,
    near_hist: np.ndarray,
    objectives: dict[str, float],
) -> dict[str, np.ndarray]:
    st = ctx.state
    pairs = st.pairs.gain(st.binner.bins(C)).astype(float)
    near = np.where(np.isfinite(near_hist), near_hist, 1.0)
    sur = ctx.surrogates if gen.model_scores else None
    trained = ctx.trained if gen.model_scores else None
    if sur is not None:
        pred = predict_shared(sur, E)
        (m1, s1), (m2, s2), (m3, _) = pred["cov"], pred["fail"], pred["cost"]
        cov = 0.35 * _norm(pairs) + 0.25 * _norm(near) + 0.4 * _norm(m1 + s1)
        fail = np.clip(m2 + s2, 0.0, 1.0)
        cost = np.maximum(np.expm1(m3), 0.0)
    else:
        cov = 0.55 * _norm(pairs) + 0.45 * _norm(near)
        fail = np.zeros(len(C))
        cost = _prior_cost(ctx) * np.ones(len(C))
    if trained is not None and len(C):  # the registered failure model, scored on the decoded params
        fail = trained.failure_prob(ctx.space.to_dicts(ctx.space.decode(C)))
    total = (
        objectives.get("coverage_gain", 0.0) * cov
        + objectives.get("failure_prob", 0.0) * fail
        + objectives.get("cost", 0.0) * (1.0 - _norm(cost))
    )
    if ctx.space.soft:  # soft relations: each violated one costs SOFT_SCALE per unit of its weight
        total = total - SOFT_SCALE * ctx.space.soft_penalty(ctx.space.decode(C))
    return {
        "score": total,
        "coverage_gain": cov,
        "failure_prob": fail,
        "cost": cost,
        "new_pairs": pairs,
        "nearest": near_hist,
        "model": np.array(sur is not None or trained is not None),
    }


def _prior_cost(ctx: SuggestContext) -> float:
    """Before a cost model exists: the mean observed cost, or 1 cent when nothing has run."""
    runs = ctx.history.runs
    return float(np.mean([r.cost_cents for r in runs.values()])) if runs else 1.0


def build_batch(
    ctx: SuggestContext,
    gen: Generator,
    k: int,
    objectives: dict[str, float],
    method: str = "k_center",
    min_distance: float = 0.0,
    pareto: ParetoSpec | None = None,
) -> Batch:
    weights = gen.weights(ctx)  # once: the hybrid's are a Thompson draw, and the audit records them
    alloc = apportion(weights, k)
    props = [(op, operator(op)(ctx, alloc[op] * _oversample(gen, op, pareto) + 2)) for op in sorted(alloc)]
    C, owner_arr = resolve(ctx, props)
    taken: set[bytes] = set()
    keep = _unique_new(ctx, C, taken)
    C, owner_arr = C[keep], owner_arr[keep]
    if len(C) < k:  # sparse or nearly exhausted space: widen the net once
        X, _ = resolve(ctx, [("boundary", OPERATORS["boundary"](ctx, 4 * k))])
        X = X[_unique_new(ctx, X, taken)]
        C = np.vstack([C, X])
        owner_arr = np.concatenate([owner_arr, np.array(["boundary"] * len(X), dtype=object)])
    if not len(C):
        z = np.zeros(0)
        return Batch(C, [], z, z, z, z, z, z, weights=weights, model_used=False)
    E = ctx.state.emb(C)
    near = min_dist_to(E, ctx.state.E)  # one pass over the history per call, then updated locally
    s = score(ctx, gen, C, E, near, objectives)
    chosen: list[int] = []
    select = select_dpp if method == "dpp" else select_k_center
    for op in sorted(alloc):
        idx = np.flatnonzero(owner_arr == op)
        idx = np.array([i for i in idx if i not in set(chosen)], dtype=np.int64)
        if not len(idx):
            continue
        if _as_drawn(op):
            pick = list(range(min(alloc[op], len(idx))))
        elif method == "none" or gen.spread_weight == 0.0:
            pick = list(np.argsort(-s["score"][idx], kind="stable")[: alloc[op]])
        elif select is select_k_center:
            pick = select_k_center(
                E[idx], s["score"][idx], alloc[op], near[idx], min_distance, gen.spread_weight
            )
        else:
            pick = select_dpp(E[idx], s["score"][idx], alloc[op], near[idx], min_distance)
        got = [int(idx[p]) for p in pick]
        chosen += got
        if got:
            near = np.minimum(near, min_dist_to(E, E[got]))
    if len(chosen) < k:  # an operator came up short: fill from everything left, best first
        rest = np.array([i for i in range(len(C)) if i not in set(chosen)], dtype=np.int64)
        if len(rest):
            if method == "none" or gen.spread_weight == 0.0:
                pick = list(np.argsort(-s["score"][rest], kind="stable")[: k - len(chosen)])
            else:
                pick = select_k_center(
                    E[rest], s["score"][rest], k - len(chosen), near[rest], min_distance, gen.spread_weight
                )
            chosen += [int(rest[p]) for p in pick]
    pf = front(ctx, pareto, E, s) if pareto is not None else None
    if pf is not None and pareto is not None and pareto.select != "none":
        chosen = pf.choose(k)  # the fronts decide instead of the operator slots
    ch = np.array(chosen, dtype=np.int64)
    unc = uncertainty(ctx, C[ch], E[ch]) if gen.model_scores else None
    return Batch(
        U=C[ch],
        ops=[str(o) for o in owner_arr[ch]],
        score=s["score"][ch],
        coverage_gain=s["coverage_gain"][ch],
        failure_prob=s["failure_prob"][ch],
        cost=s["cost"][ch],
        new_pairs=s["new_pairs"][ch],
        nearest=s["nearest"][ch],
        weights=weights,
        model_used=bool(s["model"]),
        uncertainty=None if unc is None else unc.score,
        pool_rows=ch,
        front=pf,
        pool_U=C if pf is not None else None,
        pool_ops=[str(o) for o in owner_arr] if pf is not None else None,
    )


def rationale(b: Batch, i: int) -> str:
    op = b.ops[i]
    plugin = f"proposed by the generator plug-in '{op[7:]}'" if op.startswith("plugin:") else op
    parts = [OPERATOR_TEXT.get(op, plugin)]
    parts.append(f"covers {int(b.new_pairs[i])} new parameter-value combinations")
    if np.isfinite(b.nearest[i]):
        parts.append(f"nearest earlier test at distance {b.nearest[i]:.3f}")
    else:
        parts.append("among the project's first tests")
    if b.model_used:
        parts.append(f"predicted failure probability {b.failure_prob[i]:.2f}")
    parts.append(f"predicted cost {b.cost[i]:.2f} cents")
    if b.uncertainty is not None:
        parts.append(f"surrogate committee disagreement {b.uncertainty[i]:.2f}")
    return "; ".join(parts)
