"""Drift statistics in numpy only: the monitors run on the serving path (a Lambda), where scipy is not.

Every statistic compares a *reference* distribution (the training baseline, or a reference window of
served traffic) with a *current* one (the monitor's window). Binned statistics take counts over the
same bins on both sides:

* numeric inputs: the baseline's quantile edges (`bin_index` says which bin a value falls in);
* categorical inputs: one count per category plus an `unseen` bucket for values training never had.

Conventions, chosen so thresholds mean the same on every monitor:

* PSI  = sum (q - p) ln(q / p), p the reference and q the current proportions (symmetric);
* KL   = KL(current || reference) in nats: how surprising served data is under training's;
* JS   = the Jensen-Shannon *divergence* in bits, so it lies in [0, 1] (scipy's `jensenshannon`
  with base 2 is its square root, the JS distance);
* KS   = the two-sample Kolmogorov-Smirnov statistic D = sup |F_ref - F_cur| with the asymptotic
  (Kolmogorov) p-value of sqrt(n m / (n + m)) D. Against a binned baseline D is taken at the bin
  edges (`ks_binned`), a lower bound of the exact D that equals it when every value is an edge.

Proportions are epsilon-smoothed (`smooth`) before any logarithm: an empty bin on one side would make
PSI and KL infinite, and an infinite statistic tells an operator nothing a large one does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EPSILON = 1e-4  # added to each proportion (then renormalised): the floor of an empty bin


def smooth(counts: np.ndarray, eps: float = EPSILON) -> np.ndarray:
    """Counts -> proportions with no zero: (c / n + eps) / (1 + k eps). An all-zero row is uniform."""
    c = np.asarray(counts, dtype=np.float64)
    n = c.sum()
    p = c / n if n > 0 else np.full(c.shape, 1.0 / max(1, c.size))
    return (p + eps) / (1.0 + eps * c.size)


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = EPSILON) -> float:
    """Population stability index over shared bins (0: identical; > 0.25 is the usual 'shifted')."""
    p, q = smooth(ref_counts, eps), smooth(cur_counts, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def kl(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = EPSILON) -> float:
    """KL(current || reference) in nats over shared bins."""
    p, q = smooth(ref_counts, eps), smooth(cur_counts, eps)
    return float(np.sum(q * np.log(q / p)))


def js(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = EPSILON) -> float:
    """Jensen-Shannon divergence in bits, in [0, 1]."""
    p, q = smooth(ref_counts, eps), smooth(cur_counts, eps)
    m = 0.5 * (p + q)
    d = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    return float(min(1.0, max(0.0, d)))


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution (scipy's `kstwobign.sf`), to ~1e-12.

    The alternating series 2 sum (-1)^(k-1) exp(-2 k^2 lam^2) converges slowly for small lam, where the
    Jacobi theta form 1 - sqrt(2 pi)/lam sum exp(-(2k-1)^2 pi^2 / (8 lam^2)) converges fast instead."""
    if lam <= 0.0:
        return 1.0
    if lam < 1.18:
        s = sum(math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8.0 * lam * lam)) for k in range(1, 8))
        return float(min(1.0, max(0.0, 1.0 - math.sqrt(2.0 * math.pi) / lam * s)))
    s = sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, 2.0 * s)))


def ks_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic."""
    if n_ref <= 0 or n_cur <= 0:
        return 1.0
    en = math.sqrt(n_ref * n_cur / (n_ref + n_cur))
    return kolmogorov_sf(en * d)


def ks_2samp(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Exact two-sample KS statistic D (as scipy's `ks_2samp`) and its asymptotic p-value. NaNs are
    dropped (missing values are not a position on the axis)."""
    a = np.sort(_finite(reference))
    b = np.sort(_finite(current))
    if a.size == 0 or b.size == 0:
        return 0.0, 1.0
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    d = float(np.max(np.abs(fa - fb)))
    return d, ks_pvalue(d, a.size, b.size)


def ks_binned(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """KS over shared ordered bins: the sup of the CDF difference at the bin edges, with the p-value
    the sample sizes (the counts' totals) give it."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    nr, nc = r.sum(), c.sum()
    if nr <= 0 or nc <= 0:
        return 0.0, 1.0
    d = float(np.max(np.abs(np.cumsum(r) / nr - np.cumsum(c) / nc)))
    return d, ks_pvalue(d, int(nr), int(nc))


def total_variation(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """sup over sets of |P(A) - Q(A)| = half the L1 distance: KS's meaning for unordered categories
    (KS proper depends on an order the categories do not have)."""
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    if r.sum() <= 0 or c.sum() <= 0:
        return 0.0
    return float(0.5 * np.sum(np.abs(r / r.sum() - c / c.sum())))


def bin_index(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """The bin of each value for k+1 edges: bin i holds [e_i, e_(i+1)); the outer bins are open-ended
    (a value below e_0 is in bin 0, one at or above e_k in bin k-1), so served values outside the
    training range are counted, not dropped."""
    e = np.asarray(edges, dtype=np.float64)
    return np.searchsorted(e[1:-1], values, side="right")


def numeric_counts(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Counts per bin of the finite values (NaN = missing, counted apart by the caller)."""
    v = _finite(values)
    k = len(edges) - 1
    return np.bincount(bin_index(v, edges), minlength=k)[:k].astype(np.float64)


def quantile_edges(values: np.ndarray, bins: int = 10) -> list[float]:
    """Quantile bin edges of a sample (duplicates merged: a constant or integer feature has fewer
    bins rather than empty ones)."""
    v = _finite(values)
    if v.size == 0:
        return [0.0, 1.0]
    e = np.unique(np.quantile(v, np.linspace(0.0, 1.0, max(1, bins) + 1)))
    if e.size == 1:
        e = np.array([e[0], e[0] + 1.0])
    return [float(x) for x in e]


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    return v[np.isfinite(v)]
