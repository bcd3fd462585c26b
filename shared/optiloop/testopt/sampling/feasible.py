"""Turning proposals into feasible tests: filter, then repair towards known feasible points.

Feasibility is decided by the space's own evaluator on the decoded values, so every point this
module returns satisfies every hard relation by construction. Rejection alone fails on tight
spaces (equalities, thin slabs), so rejected proposals are repaired by bisecting the segment
from a feasible anchor towards them: the result is the feasible point nearest the proposal on
that segment, which also lands tests right on constraint boundaries, where bugs live.
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.sampling.proposals import Mode, propose
from optiloop.testopt.space import Space

BISECT_STEPS = 10


def feasible_mask(space: Space, U: np.ndarray) -> np.ndarray:
    return space.feasible(space.decode(U))


def bisect_towards(
    space: Space, anchors: np.ndarray, targets: np.ndarray, steps: int = BISECT_STEPS
) -> np.ndarray:
    """For each row, the feasible point furthest from its (feasible) anchor along the segment to its
    target, to the resolution of `steps` halvings. Anchors must be feasible; results are snapped."""
    lo = np.zeros(len(anchors))
    hi = np.ones(len(anchors))
    full = feasible_mask(space, targets)
    lo[full] = 1.0
    todo = np.flatnonzero(~full)  # only rows still unresolved are evaluated at each step
    A, D = anchors[todo], (targets - anchors)[todo]
    for _ in range(steps if len(todo) else 0):
        mid = (lo[todo] + hi[todo]) / 2
        # decoding is all feasibility looks at, so unsnapped points decide exactly as snapped ones
        ok = feasible_mask(space, A + mid[:, None] * D)
        lo[todo] = np.where(ok, mid, lo[todo])
        hi[todo] = np.where(ok, hi[todo], mid)
    out = space.snap(anchors + lo[:, None] * (targets - anchors))
    bad = ~feasible_mask(space, out)  # snapping discrete dims can step over the edge: fall back
    out[bad] = space.snap(anchors[bad])
    return out


def sample_feasible(
    space: Space,
    n: int,
    rng: np.random.Generator,
    mode: Mode = "mixed",
    base: np.ndarray | None = None,
    max_rounds: int = 6,
) -> np.ndarray:
    """Up to n feasible snapped points. Tries rejection first; if too few pass, repairs rejected
    proposals towards the feasible ones it found."""
    out: list[np.ndarray] = []
    have = 0
    rejected: list[np.ndarray] = []
    for r in range(max_rounds):
        need = n - have
        if need <= 0:
            break
        m = max(2 * need, 16)
        if base is not None and r == 0:
            P = propose(space, len(base), rng, mode, base=base)
        else:
            P = propose(space, m, rng, mode)
        P = space.snap(P)
        ok = feasible_mask(space, P)
        good = P[ok][:need]
        out.append(good)
        have += len(good)
        rejected.append(P[~ok])
        if ok.mean() > 0.2 and have >= n:
            break
    if have < n:
        A = np.vstack(out) if have else np.empty((0, space.dim))
        R = np.vstack(rejected)
        if len(A) and len(R):
            need = min(n - have, len(R))
            tgt = R[rng.choice(len(R), need, replace=False)]
            anc = A[rng.integers(0, len(A), need)]
            out.append(bisect_towards(space, anc, tgt))
    res = np.vstack(out) if out else np.empty((0, space.dim))
    return res[:n]


def edge_targets(
    space: Space, U: np.ndarray, rng: np.random.Generator, dims_per_point: int = 1
) -> np.ndarray:
    """U with one (or a few) numeric coordinates per point set to a bound of its range: bisecting
    from U towards these finds the edge of the feasible region along that coordinate."""
    numeric = [j for j, p in enumerate(space.params) if p.is_numeric]
    T = U.copy()
    if not numeric or not len(U):
        return T
    for _ in range(dims_per_point):
        js = rng.choice(numeric, len(U))
        T[np.arange(len(U)), js] = np.where(rng.random(len(U)) < 0.5, 0.0, np.nextafter(1.0, 0.0))
    return T


def push_to_edges(
    space: Space, U: np.ndarray, rng: np.random.Generator, dims_per_point: int = 1
) -> np.ndarray:
    """Move feasible points along one (or a few) numeric coordinates to the edge of the feasible
    region: the domain bound if it is feasible, else the constraint boundary found by bisection."""
    if not len(U):
        return U
    return bisect_towards(space, U, edge_targets(space, U, rng, dims_per_point))
