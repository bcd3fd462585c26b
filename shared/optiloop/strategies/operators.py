"""Candidate operators: each turns the context into feasible, snapped candidate points.

Each is a different bet on where new behaviour is: anywhere (space filling), at the edges of
ranges, on constraint boundaries, near tests that hit rare behaviour (mutation), in mixes of two
such tests (crossover), or where the surrogate expects it (model). The hybrid generator learns
which bets pay on a given system and shifts the batch towards them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optiloop.sampling.feasible import bisect_towards, feasible_mask, push_to_edges, sample_feasible
from optiloop.sampling.halton import scrambled_halton
from optiloop.sampling.proposals import propose, wide_dims
from optiloop.strategies.context import SuggestContext
from optiloop.surrogate.rff import predict_shared

Operator = Callable[[SuggestContext, int], np.ndarray]


def _anchors(ctx: SuggestContext) -> np.ndarray | None:
    return ctx.state.U[-512:] if ctx.state.n_tests else None


def op_uniform(ctx: SuggestContext, n: int) -> np.ndarray:
    return sample_feasible(ctx.space, n, ctx.rng, mode="uniform", anchors=_anchors(ctx))


def op_qmc(ctx: SuggestContext, n: int, mode: str = "uniform") -> np.ndarray:
    """Scrambled Halton continued from where this project's sequence stopped."""
    base = scrambled_halton(max(2 * n, 8), ctx.space.dim, seed=ctx.seed, start=2 * ctx.state.n_tests)
    return sample_feasible(ctx.space, n, ctx.rng, mode=mode, anchors=_anchors(ctx), base=base)  # type: ignore[arg-type]


def op_spread(ctx: SuggestContext, n: int) -> np.ndarray:
    """Space filling with log-ish and boundary values mixed into numeric coordinates."""
    return op_qmc(ctx, n, mode="mixed")


def op_boundary(ctx: SuggestContext, n: int) -> np.ndarray:
    return sample_feasible(ctx.space, n, ctx.rng, mode="boundary", anchors=_anchors(ctx))


def op_edge(ctx: SuggestContext, n: int) -> np.ndarray:
    """Feasible points pushed along 1-2 numeric coordinates onto the feasible region's edge."""
    start = sample_feasible(ctx.space, n, ctx.rng, mode="mixed", anchors=_anchors(ctx))
    return push_to_edges(ctx.space, start, ctx.rng, dims_per_point=1 + int(ctx.rng.random() < 0.5))


def _parents(ctx: SuggestContext, n: int) -> np.ndarray:
    rows, e = ctx.state.rarity(2000)
    if not len(rows):
        return np.empty(0, dtype=np.int64)
    e = e + 1e-3
    return rows[ctx.rng.choice(len(rows), n, p=e / e.sum())]


def _repair_from(ctx: SuggestContext, parents: np.ndarray, children: np.ndarray) -> np.ndarray:
    P = ctx.state.U[parents]
    ok_parent = feasible_mask(ctx.space, P)
    P, children = P[ok_parent], children[ok_parent]
    if not len(P):
        return np.empty((0, ctx.space.dim))
    return bisect_towards(ctx.space, P, np.clip(children, 0.0, np.nextafter(1.0, 0.0)))


def op_mutate(ctx: SuggestContext, n: int) -> np.ndarray:
    """Change 1-3 coordinates of tests that hit rare buckets (AFL-style energy: sum 1/count)."""
    parents = _parents(ctx, n)
    if not len(parents):
        return op_spread(ctx, n)
    rng, d = ctx.rng, ctx.space.dim
    C = ctx.state.U[parents].copy()
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
    return _repair_from(ctx, parents, C)


def op_crossover(ctx: SuggestContext, n: int) -> np.ndarray:
    """Uniform crossover of two rare-bucket tests: conjunctions of two behaviours."""
    if len(ctx.state.corpus) < 2:
        return op_mutate(ctx, n)
    a, b = _parents(ctx, n), _parents(ctx, n)
    mask = ctx.rng.random((n, ctx.space.dim)) < 0.5
    C = np.where(mask, ctx.state.U[a], ctx.state.U[b])
    return _repair_from(ctx, a, C)


def op_model(ctx: SuggestContext, n: int) -> np.ndarray:
    """A wide pool (space filling + mutations), cut to the surrogate's best upper bounds."""
    sur = ctx.surrogates
    pool = np.vstack([op_spread(ctx, 6 * n), op_mutate(ctx, 2 * n)])
    if sur is None or not len(pool):
        return pool[:n]
    pred = predict_shared({"cov": sur["cov"], "fail": sur["fail"]}, ctx.state.emb(pool))
    (m1, s1), (m2, s2) = pred["cov"], pred["fail"]
    ucb = (m1 + 1.0 * s1) + 2.0 * (m2 + 1.0 * s2)
    return pool[np.argsort(-ucb, kind="stable")[:n]]


OPERATORS: dict[str, Operator] = {
    "uniform": op_uniform,
    "qmc": op_qmc,
    "spread": op_spread,
    "boundary": op_boundary,
    "edge": op_edge,
    "mutate": op_mutate,
    "crossover": op_crossover,
    "model": op_model,
}
