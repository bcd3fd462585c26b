"""Pairwise stratification: space filling judged on every pair of coordinates, not on distance.

Behaviour that depends on two params at once (a cell of a grid over two coordinates, a flag
crossed with a level, a mode crossed with a tier) is found by covering the *cells of each pair*
of params, as covering arrays do for discrete params. A point that is far from every earlier
test in the full space is not the same thing: as dimension grows, distance-based selection
(maximin, k-center) prefers points at the corners of the cube and says little about any pair.

The `stratify` operator draws a pool of feasible points the way the reference does (rejection,
no repair, so no pull towards the edges), and picks greedily the one that lands in the most
(bin_i, bin_j) cells no earlier test of the project has reached, counting each cell once within
the batch. The resolution grows with the project's tests (about sqrt(n) bins per numeric
coordinate, 4 to 16) so the cells stay ones a budget can still fill: coarse when tests are few,
finer as they accumulate. Discrete params keep one bin per level (capped at the resolution).
Ties go to pool order, which is already random.
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.sampling.feasible import sample_feasible
from optiloop.testopt.strategies.context import SuggestContext

POOL = 8  # candidates per wanted test
MAX_PAIRS = 300  # pairs tracked per call; beyond 25 params a seeded random subset of them
HISTORY = 2000  # newest tests whose cells count as covered (bounds the per-call cost)
MIN_RES, MAX_RES = 4, 16


def resolution(n_tests: int) -> int:
    """Bins per numeric coordinate: a pair has r x r cells, about as many as the project has
    tests, so a good share of them is still empty (about a third after n random tests) and
    aiming at them changes where the batch goes; coarser, random tests would have reached
    nearly all of them already."""
    return int(np.clip(round(np.sqrt(max(n_tests, 1))), MIN_RES, MAX_RES))


def _sizes(ctx: SuggestContext, r: int) -> np.ndarray:
    out = []
    for p in ctx.space.params:
        levels = p.n_levels
        out.append(min(levels, r) if levels is not None else r)
    return np.maximum(np.array(out, dtype=np.int64), 1)


def _pairs(d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    ii, jj = np.triu_indices(d, k=1)
    if len(ii) > MAX_PAIRS:
        pick = np.sort(np.random.default_rng(seed).choice(len(ii), MAX_PAIRS, replace=False))
        ii, jj = ii[pick], jj[pick]
    return ii, jj


def cell_codes(U: np.ndarray, sizes: np.ndarray, ii: np.ndarray, jj: np.ndarray, r: int) -> np.ndarray:
    """(n, pairs) index of each point's cell in each pair (bins of the unit coordinate)."""
    B = np.minimum((np.clip(U, 0.0, 1.0) * sizes).astype(np.int32), (sizes - 1).astype(np.int32))
    return B[:, ii] * np.int32(r) + B[:, jj]


def op_stratify(ctx: SuggestContext, n: int) -> np.ndarray:
    """Up to n feasible points, best first: each covers the most pair cells still empty."""
    d = ctx.space.dim
    pool = sample_feasible(ctx.space, POOL * n, ctx.rng, mode="uniform")
    if d < 2 or len(pool) <= n:
        return pool[:n]
    r = resolution(ctx.state.n_tests)
    sizes = _sizes(ctx, r)
    ii, jj = _pairs(d, ctx.seed)
    offset = np.arange(len(ii), dtype=np.int64) * (r * r)  # flat cell ids: pair * r^2 + cell
    covered = np.zeros(len(ii) * r * r, dtype=bool)
    H = ctx.state.U[-HISTORY:]
    if len(H):
        covered[(cell_codes(H, sizes, ii, jj, r) + offset).ravel()] = True
    cells = cell_codes(pool, sizes, ii, jj, r) + offset  # (m, pairs)
    gain = (~covered[cells]).sum(axis=1)
    picked: list[int] = []
    for _ in range(n):
        i = int(np.argmax(gain))
        picked.append(i)
        first = ~covered[cells[i]]  # the pairs in which this pick reaches an empty cell
        covered[cells[i, first]] = True
        # every candidate in one of those cells gains one cell less (one cell per pair per point)
        gain -= (cells[:, first] == cells[i, first]).sum(axis=1)
        gain[picked] = -1
    return pool[picked]
