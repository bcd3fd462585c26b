"""Which coordinates a project's buckets depend on, learned from its history.

A system's behaviour buckets are usually functions of a few of its params (a grid over two
coordinates crossed with a regime of others, a k-way interaction of flags with a tier and a
mode). Space filling judged on every coordinate, or every pair of them alike, spends most of its
effort on combinations that do not matter; pairwise stratification (strategies/stratify.py)
weighs each pair's and triple's cells by these weights instead.

A bucket depends on a coordinate when the tests that hit it agree on it: the within-bucket
variance of the coordinate is small against its variance over the tests. Over a bounded sample
of the newest runs, each bucket hit at least twice contributes one minus that ratio (unbiased,
so a random subset of tests contributes zero on average); a coordinate's relevance is the mean
over buckets, scaled to a maximum of 1, with a floor so no coordinate is dropped outright.
Every bucket counts once, whatever its size: the many fine buckets of a system (a grid cell
crossed with a regime level, hit by two or three tests) then weigh as much as they are numerous,
and the noise of each small one averages out over them. Per-bucket mutual information between a
coordinate's bin and the bucket's hits was tried first: it needs buckets hit five times or more,
so it saw only the coarse ones and missed the grid (docs/benchmarks.md).

A function of the history alone, bounded per call: SCAN rows, SAMPLE runs.
"""

from __future__ import annotations

import numpy as np

from optiloop.testopt.strategies.context import SuggestContext

SAMPLE = 600  # newest runs whose buckets estimate the relevance
SCAN = 4 * SAMPLE  # newest test rows looked at for them (tests not yet run are skipped)
MIN_RUNS = 40  # below this the estimate is noise and nothing is weighted
FLOOR = 0.05  # the least weight a coordinate keeps


def _sample(ctx: SuggestContext) -> tuple[np.ndarray, list[list[int]]]:
    """Rows of the newest SAMPLE tests that have a run, and each run's buckets as dense ids."""
    st, runs = ctx.state, ctx.history.runs
    rows: list[int] = []
    hits: list[list[int]] = []
    for row in range(len(st.ids) - 1, max(len(st.ids) - 1 - SCAN, -1), -1):
        if len(rows) >= SAMPLE:
            break
        r = runs.get(st.ids[row]) if st.ran[row] else None
        if r is None:
            continue
        rows.append(row)
        hits.append([st.bucket_ids[b] for b in set(r.buckets) if b in st.bucket_ids])
    return np.array(rows[::-1], dtype=np.int64), hits[::-1]


def relevance(ctx: SuggestContext) -> np.ndarray | None:
    """Per-coordinate weights in [FLOOR, 1], or None while too few runs (or buckets hit twice)
    say anything (see the module docstring)."""
    d = ctx.space.dim
    if ctx.state.n_runs < MIN_RUNS or d < 2:
        return None
    rows, hits = _sample(ctx)
    n = len(rows)
    if n < MIN_RUNS:
        return None
    ids = np.array([b for h in hits for b in h], dtype=np.int64)
    at = np.repeat(np.arange(n), [len(h) for h in hits])
    if not len(ids):
        return None
    _, g, count = np.unique(ids, return_inverse=True, return_counts=True)
    ok = (count >= 2) & (count < n)
    if not ok.any():
        return None
    U = ctx.state.U[rows]
    total = U.var(axis=0, ddof=1)
    V = U[at]  # (hits, d): each hit's coordinates
    k = len(count)
    s1 = np.zeros((k, d))
    s2 = np.zeros((k, d))
    np.add.at(s1, g, V)
    np.add.at(s2, g, V * V)
    c = count[ok].astype(float)[:, None]
    within = (s2[ok] - s1[ok] ** 2 / c) / (c - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 1e-12, within / total, 1.0)
    rel = np.maximum((1.0 - ratio).mean(axis=0), 0.0)
    top = float(rel.max())
    if top <= 0.0:
        return None
    return np.asarray(FLOOR + (1.0 - FLOOR) * rel / top)
