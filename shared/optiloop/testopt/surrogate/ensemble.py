"""A committee of small surrogates whose disagreement says where the project's models know least.

One Bayesian model's posterior standard deviation says how far a point is from the data under
that model's own assumptions (one lengthscale, one set of features). A committee — members that
each see a bootstrap resample of the runs through their own random features at their own
lengthscale — disagrees also where the data admit several explanations: a failure region's
uncertain edge, a coverage trend two lengthscales read differently. That disagreement drives the
active-learning operator (`strategies/active.py`): tests where the models disagree are the ones
that teach them most, and the bandit pays the operator only if they also find new behaviour.

Each member is two `RFFSurrogate`s with one seed (new-coverage and failure targets; they share
features and posterior covariance, see `predict_shared`), 64 features, so a member costs a
64 x 64 inverse, not 192 x 192. Bootstrap weights are Poisson(1) counts per run, drawn from
(member, chunk of CHUNK runs) so a run's count depends only on its place in ingestion order:
a cold process folds the same resample as a warm one, chunk by chunk, and the same history gives
the same committee. Rows are repeated by their count (exact for integer weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optiloop.testopt.surrogate.rff import RFFSurrogate, predict_shared

CHUNK = 32  # runs per bootstrap draw (and per fold step): a run's count depends on its index alone
LENGTHSCALES = (0.08, 0.12, 0.18, 0.27, 0.12)  # a spread around the main model's 0.12
FEATURES = 64
SEED = 7919  # members' seeds are SEED + member: never the main surrogate's features
TARGETS = ("cov", "fail")
MIN_SPREAD = 0.05  # floor of a target's spread when scaling disagreement (all-zero failure targets)


def _member(dim: int, m: int) -> dict[str, RFFSurrogate]:
    ls = LENGTHSCALES[m % len(LENGTHSCALES)]
    return {t: RFFSurrogate(dim, FEATURES, lengthscale=ls, seed=SEED + m) for t in TARGETS}


def bootstrap_counts(member: int, start: int, n: int) -> np.ndarray:
    """Poisson(1) resampling counts of runs start .. start+n-1 (start a multiple of CHUNK or not)."""
    out = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        c, off = divmod(start + i, CHUNK)
        draw = np.random.default_rng([SEED, member, c]).poisson(1.0, CHUNK)
        take = min(CHUNK - off, n - i)
        out[i : i + take] = draw[off : off + take]
        i += take
    return out


@dataclass
class Committee:
    """The members, folded in ingestion order, with running sums of each target for its spread."""

    dim: int
    size: int = len(LENGTHSCALES)
    members: list[dict[str, RFFSurrogate]] = field(init=False)
    n_folded: int = 0
    sums: np.ndarray = field(default_factory=lambda: np.zeros((3, len(TARGETS))))  # n, Σy, Σy²

    def __post_init__(self) -> None:
        self.members = [_member(self.dim, m) for m in range(self.size)]

    def fold(self, X: np.ndarray, Y: np.ndarray) -> Committee:
        """Fold runs n_folded .. n_folded+len(X)-1 (targets: columns cov, fail), chunk by chunk
        so the sums are added in the same order however the runs arrive."""
        Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)[:, : len(TARGETS)]
        i = 0
        while i < len(X):
            step = min(CHUNK - (self.n_folded + i) % CHUNK, len(X) - i)
            Xc, Yc = X[i : i + step], Y[i : i + step]
            for m, member in enumerate(self.members):
                w = bootstrap_counts(m, self.n_folded + i, step)
                Xr, Yr = np.repeat(Xc, w, axis=0), np.repeat(Yc, w, axis=0)
                for j, t in enumerate(TARGETS):
                    member[t].partial_fit(Xr, Yr[:, j])
            self.sums += np.vstack([np.full(len(TARGETS), step), Yc.sum(axis=0), (Yc**2).sum(axis=0)])
            i += step
        self.n_folded += len(X)
        return self

    def copy(self) -> Committee:
        c = Committee.__new__(Committee)
        c.dim, c.size, c.n_folded, c.sums = self.dim, self.size, self.n_folded, self.sums.copy()
        c.members = [{t: m[t].copy() for t in TARGETS} for m in self.members]
        return c

    def spread(self) -> np.ndarray:
        """Each target's standard deviation over the folded runs (floored at MIN_SPREAD)."""
        n, s, s2 = self.sums
        n = np.maximum(n, 1.0)
        var = np.maximum(s2 / n - (s / n) ** 2, 0.0)
        return np.maximum(np.sqrt(var), MIN_SPREAD)

    def means(self, E: np.ndarray) -> dict[str, np.ndarray]:
        """Each member's predicted mean per target: {target: (members, points)}."""
        preds = [predict_shared(dict(m), E) for m in self.members]
        return {t: np.vstack([p[t][0] for p in preds]) for t in TARGETS}


@dataclass(frozen=True)
class Disagreement:
    """Per point: the committee's spread of predictions per target, in that target's units, and
    the acquisition value: both spreads over the targets' spreads in the runs, summed."""

    cov: np.ndarray
    fail: np.ndarray
    score: np.ndarray


def disagreement(committee: Committee, E: np.ndarray, extra_fail: np.ndarray | None = None) -> Disagreement:
    """How much the members disagree at the points E. `extra_fail`, the registered (trained)
    failure model's probabilities at the same points, joins the failure committee as one more
    member: where it and the in-process models disagree is worth a test too."""
    mu = committee.means(E)
    fail = mu["fail"] if extra_fail is None else np.vstack([mu["fail"], np.asarray(extra_fail)[None, :]])
    sd_cov, sd_fail = mu["cov"].std(axis=0), fail.std(axis=0)
    spread = committee.spread()
    return Disagreement(cov=sd_cov, fail=sd_fail, score=sd_cov / spread[0] + sd_fail / spread[1])
