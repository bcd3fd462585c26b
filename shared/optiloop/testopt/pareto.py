"""Non-dominated sorting and crowding distance (NSGA-II, Deb et al. 2002), in numpy.

A batch of tests trades objectives against each other — new coverage, failure probability, cost,
flakiness — and a single weighted score hides the trade. The Pareto front shows it: the
candidates no other candidate beats on every objective at once. NSGA-II's two tools order a pool
without choosing weights: the non-dominated rank (front 1 is the Pareto front, front 2 the front
once front 1 is removed, ...) and, within a front, the crowding distance (how far apart a
member's neighbours along each objective are), which prefers the front's ends and its sparse
stretches so a batch cut from it spans the trade rather than bunching on one part of it.

Every objective is *minimised* here (negate one to maximise it). Work is O(m·n²) time and
O(n²) memory for n points and m objectives: callers bound n (the suggest pool is at most a
few thousand candidates).
"""

from __future__ import annotations

import numpy as np


def dominates(F: np.ndarray) -> np.ndarray:
    """D[i, j] is True when point i dominates point j: no worse on every objective, better on one."""
    n = len(F)
    no_worse = np.ones((n, n), dtype=bool)
    better = np.zeros((n, n), dtype=bool)
    for col in F.T:  # one n x n comparison per objective, never an n x n x m tensor
        no_worse &= col[:, None] <= col[None, :]
        better |= col[:, None] < col[None, :]
    return no_worse & better


def non_dominated_ranks(F: np.ndarray) -> np.ndarray:
    """The front each point belongs to (0 = not dominated by any point), by peeling fronts.

    A point's count of dominators drops as each front is removed; the next front is the points
    whose count reaches zero. Equal points dominate neither other and share a front."""
    F = _finite(F)
    n = len(F)
    ranks = np.full(n, -1, dtype=np.int64)
    if not n:
        return ranks
    D = dominates(F)
    left = D.sum(axis=0)  # how many points dominate each point
    front = np.flatnonzero(left == 0)
    r = 0
    while len(front):
        ranks[front] = r
        left = left - D[front].sum(axis=0)
        left[ranks >= 0] = -1  # placed points never come back
        front = np.flatnonzero(left == 0)
        r += 1
    return ranks


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """Crowding distance of each point of one front: per objective, the gap between its two
    neighbours in that objective's order over the objective's range, summed. The ends of each
    objective's range get infinity (NSGA-II keeps them); an objective constant on the front adds
    nothing. Ties are ordered by index, so the result is deterministic."""
    F = _finite(F)
    n, m = F.shape
    out = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        col = F[:, j]
        order = np.lexsort((np.arange(n), col))
        lo, hi = col[order[0]], col[order[-1]]
        if hi <= lo:
            continue
        out[order[0]] = out[order[-1]] = np.inf
        out[order[1:-1]] += (col[order[2:]] - col[order[:-2]]) / (hi - lo)
    return out


def crowding_by_front(F: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Each point's crowding distance within its own front."""
    out = np.zeros(len(F))
    for r in np.unique(ranks):
        idx = np.flatnonzero(ranks == r)
        out[idx] = crowding_distance(F[idx])
    return out


def select_crowding(ranks: np.ndarray, crowding: np.ndarray, k: int) -> np.ndarray:
    """NSGA-II survival: whole fronts in rank order, the last one cut by crowding distance
    (largest first, index on ties). Returns k indices (fewer when there are fewer points)."""
    order = np.lexsort((np.arange(len(ranks)), -crowding, ranks))
    return order[:k]


def select_scalarised(F: np.ndarray, ranks: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Whole fronts in rank order, each ordered by the weighted sum of its objectives, min-max
    scaled over all points so the weights mean shares of each objective's range. Positive weights
    never prefer a dominated point to the point that dominates it."""
    F = _finite(F)
    lo, hi = F.min(axis=0, initial=np.inf), F.max(axis=0, initial=-np.inf)
    span = np.where(hi > lo, hi - lo, 1.0)
    s = ((F - lo) / span) @ np.asarray(weights, dtype=np.float64) if len(F) else np.zeros(0)
    order = np.lexsort((np.arange(len(ranks)), s, ranks))
    return order[:k]


def _finite(F: np.ndarray) -> np.ndarray:
    """Non-finite values (NaN: a model with nothing to say) count as worse than any finite value
    of their objective, so sorting and crowding stay finite arithmetic."""
    F = np.asarray(F, dtype=np.float64)
    if F.ndim != 2:
        raise ValueError(f"objectives must be an (n points, m objectives) array, got shape {F.shape}")
    bad = ~np.isfinite(F)
    if not bad.any():
        return F
    F = F.copy()
    for j in np.flatnonzero(bad.any(axis=0)):
        ok = F[~bad[:, j], j]
        F[bad[:, j], j] = (ok.max() + 1.0) if len(ok) else 0.0
    return F
