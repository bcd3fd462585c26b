"""Candidate operators: each proposes target points, with a feasible anchor for each where it can.

Each operator is a different bet on where new behaviour is: anywhere (space filling), at the
edges of ranges, on constraint boundaries, near tests that hit rare behaviour (mutation), in
mixes of two such tests (crossover), or where the surrogate expects it (model). The hybrid
generator learns which bets pay on a given system and shifts the batch towards them.

Operators do not check feasibility themselves. A target with an anchor becomes the feasible
point furthest from its anchor towards the target; a target without one is kept only if it is
feasible. Edges, mutations, crossovers and repairs are all that one operation, so the pipeline
runs it once per call for every operator's candidates together: feasibility costs a fixed
overhead per evaluation, and one pass over 300 points is far cheaper than fifty over six.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optiloop.testopt.sampling.feasible import edge_targets, sample_feasible
from optiloop.testopt.sampling.halton import scrambled_halton
from optiloop.testopt.sampling.proposals import propose, wide_dims
from optiloop.testopt.strategies.active import op_uncertainty
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.stratify import op_stratify as _stratify
from optiloop.testopt.surrogate.rff import predict_shared


@dataclass
class Proposal:
    targets: np.ndarray  # (m, d) unit points, not necessarily feasible
    anchors: np.ndarray | None = None  # (m, d) feasible points, or None: keep a target only if feasible


Operator = Callable[[SuggestContext, int], Proposal]
TOP = np.nextafter(1.0, 0.0)


def _anchors(ctx: SuggestContext, n: int) -> np.ndarray | None:
    """n earlier tests that are feasible under the current space, or None before there are any."""
    rows = ctx.state.feasible_rows
    if not len(rows):
        return None
    return ctx.state.U[rows[ctx.rng.integers(0, len(rows), n)]]


def _fresh(ctx: SuggestContext, n: int, mode: str, base: np.ndarray | None = None) -> Proposal:
    """Proposals repaired towards earlier tests; before the first test, sampled feasible directly."""
    A = _anchors(ctx, n if base is None else len(base))
    if A is None:
        return Proposal(sample_feasible(ctx.space, n, ctx.rng, mode=mode, base=base))  # type: ignore[arg-type]
    return Proposal(propose(ctx.space, len(A), ctx.rng, mode=mode, base=base), A)  # type: ignore[arg-type]


def op_uniform(ctx: SuggestContext, n: int) -> Proposal:
    """The reference: uniform samples, rejected when infeasible (no repair, so no edge bias)."""
    return Proposal(sample_feasible(ctx.space, n, ctx.rng, mode="uniform"))


def _halton(ctx: SuggestContext, n: int, stream: int = 0) -> np.ndarray:
    """Scrambled Halton continued from where this project's sequence stopped. Each operator that
    uses one reads its own `stream` (another scramble), so two of them never propose one point."""
    return scrambled_halton(n, ctx.space.dim, seed=ctx.seed + stream, start=2 * ctx.state.n_tests)


QMC_SPARE = 8  # stream points proposed beyond the slots: some may repeat an earlier test


def op_qmc(ctx: SuggestContext, n: int) -> Proposal:
    """The next points of the project's feasible Sobol' stream: what a Sobol' sampler with
    rejection would test, continued across calls (infeasible points skipped, never repaired).
    Spaces past the stored directions, or with nothing feasible in reach, fall back to Halton."""
    st = ctx.state
    if st.stream is not None:
        U = st.stream.take(st.op_counts["qmc"], n + QMC_SPARE)
        if len(U):
            return Proposal(U)
    base = _halton(ctx, max(2 * n, 8), stream=1)
    return Proposal(sample_feasible(ctx.space, n, ctx.rng, mode="uniform", base=base))


def op_spread(ctx: SuggestContext, n: int) -> Proposal:
    """Space filling with log-ish and boundary values mixed into numeric coordinates."""
    return _fresh(ctx, n, "mixed", base=_halton(ctx, n))


def op_stratify(ctx: SuggestContext, n: int) -> Proposal:
    """Feasible points that reach the most empty cells of coordinate pairs, best first
    (strategies/stratify.py); the pipeline takes them in that order."""
    return Proposal(_stratify(ctx, n))


def op_boundary(ctx: SuggestContext, n: int) -> Proposal:
    return _fresh(ctx, n, "boundary")


def op_edge(ctx: SuggestContext, n: int) -> Proposal:
    """Feasible points pushed along 1-2 numeric coordinates onto the feasible region's edge."""
    start = _anchors(ctx, n)
    if start is None:
        start = sample_feasible(ctx.space, n, ctx.rng, mode="mixed")
    if not len(start) or not any(p.is_numeric for p in ctx.space.params):
        return Proposal(start)
    T = edge_targets(ctx.space, start, ctx.rng, dims_per_point=1 + int(ctx.rng.random() < 0.5))
    return Proposal(T, start)


def _parents(ctx: SuggestContext, n: int) -> np.ndarray:
    rows, e = ctx.state.rarity(2000)
    ok = ctx.state.feasible[rows] if len(rows) else np.zeros(0, dtype=bool)
    rows, e = rows[ok], e[ok]
    if not len(rows):
        return np.empty(0, dtype=np.int64)
    e = e + 1e-3
    return rows[ctx.rng.choice(len(rows), n, p=e / e.sum())]


def op_mutate(ctx: SuggestContext, n: int) -> Proposal:
    """Change 1-3 coordinates of tests that hit rare buckets (AFL-style energy: sum 1/count)."""
    parents = _parents(ctx, n)
    if not len(parents):
        return op_spread(ctx, n)
    rng, d = ctx.rng, ctx.space.dim
    P = ctx.state.U[parents]
    C = P.copy()
    # which coordinates change: m ~ Geometric(1/2) per child, chosen by random ranks (vectorised)
    m = np.minimum(rng.geometric(0.5, n), d)
    ranks = np.argsort(np.argsort(rng.random((n, d)), axis=1), axis=1)
    change = ranks < m[:, None]
    how = rng.random((n, d))
    numeric = np.array([p.is_numeric for p in ctx.space.params])
    fresh = propose(ctx.space, n, rng, mode="mixed")
    edges = propose(ctx.space, n, rng, mode="boundary")
    nudge = C + rng.normal(0.0, 0.06, (n, d))
    wide = wide_dims(ctx.space)
    if len(wide.idx):  # wide ranges take their small steps on the log-ish scale
        Z = wide.to_z(C) + rng.normal(0.0, 0.06, (n, len(wide.idx)))
        nudge[:, wide.idx] = wide.set_z(C, Z, np.ones_like(Z, dtype=bool))[:, wide.idx]
    C = np.where(change & (how < 0.4), fresh, C)
    C = np.where(change & (how >= 0.4) & (how < 0.7) & numeric, nudge, C)
    C = np.where(change & ((how >= 0.7) | ((how >= 0.4) & ~numeric)), edges, C)
    return Proposal(np.clip(C, 0.0, TOP), P)


def op_crossover(ctx: SuggestContext, n: int) -> Proposal:
    """Uniform crossover of two rare-bucket tests: conjunctions of two behaviours."""
    a, b = _parents(ctx, n), _parents(ctx, n)
    if len(a) < 1 or len(ctx.state.corpus) < 2:
        return op_mutate(ctx, n)
    mask = ctx.rng.random((n, ctx.space.dim)) < 0.5
    return Proposal(np.where(mask, ctx.state.U[a], ctx.state.U[b]), ctx.state.U[a])


def op_model(ctx: SuggestContext, n: int) -> Proposal:
    """A wide pool (space filling + mutations), cut to the surrogate's best upper bounds."""
    spread, mut = op_spread(ctx, 6 * n), op_mutate(ctx, 2 * n)
    sur = ctx.surrogates
    T = np.vstack([spread.targets, mut.targets])
    if spread.anchors is None or mut.anchors is None:
        return spread  # no history yet: nothing to model, nothing to anchor mutations to
    A = np.vstack([spread.anchors, mut.anchors])
    if sur is None:
        pick = ctx.rng.choice(len(T), min(n, len(T)), replace=False)
    else:
        pred = predict_shared({"cov": sur["cov"], "fail": sur["fail"]}, ctx.state.emb(T))
        (m1, s1), (m2, s2) = pred["cov"], pred["fail"]
        pick = np.argsort(-((m1 + s1) + 2.0 * (m2 + s2)), kind="stable")[:n]
    return Proposal(T[pick], A[pick])


OPERATORS: dict[str, Operator] = {
    "uniform": op_uniform,
    "qmc": op_qmc,
    "spread": op_spread,
    "stratify": op_stratify,
    "boundary": op_boundary,
    "edge": op_edge,
    "mutate": op_mutate,
    "crossover": op_crossover,
    "model": op_model,
    "uncertainty": op_uncertainty,
}


def operator(name: str) -> Operator:
    """A built-in operator, the trained RL policy's (`rl`), or an installed plug-in's (`plugin:<name>`)."""
    if name == "rl":  # strategies/rl.py imports this module: looked up on use
        from optiloop.testopt.strategies.rl import op_rl

        return op_rl
    if name.startswith("plugin:"):
        from optiloop.testopt.strategies.plugins import operator_for, plugins

        return operator_for(name[7:], plugins()[name[7:]])
    return OPERATORS[name]
