"""Choosing a variant: the fixed split (AB), Thompson sampling and UCB1 (Bandit), LinUCB and linear
Thompson sampling (Contextual). Each returns the arm and its propensity — the probability this policy
gave the arm for this request — which is logged for off-policy evaluation.

`Policy` is built once per checkpoint revision (`cache`): posteriors' parameters and the inverse Gram
matrices are computed there, so a decision is one vectorised score and an argmax. Thompson
propensities are Monte Carlo estimates over `DRAWS` posterior draws (the chosen arm is the first
draw's argmax); UCB, LinUCB and the split are exact.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from optiloop.decisions import bayes, canary
from optiloop.decisions.state import LearnerState

DRAWS = 256
PRIOR_VAR = 1.0  # a continuous arm's reward variance until it has two rewards


def sticky_unit(experiment_id: str, unit_id: str) -> float:
    """[0, 1) from the hash of experiment and unit: the same unit sees the same variant in an experiment,
    and units are split independently across experiments."""
    h = hashlib.blake2b(f"{experiment_id}\x00{unit_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0**64


class Policy:
    """One experiment's decision rule over one state snapshot (immutable once built)."""

    def __init__(self, spec: dict[str, Any], state: LearnerState) -> None:
        self.experiment_id: str = spec["id"]
        self.algorithm: str = spec["algorithm"]
        self.k = len(spec["variants"])
        metric = spec["metric"]
        self.binary = metric["kind"] == "binary"
        flip = metric["direction"] != "maximize"
        n, s, ss = state.learner()
        mean = np.divide(s, n, out=np.zeros_like(n), where=n > 0)
        if self.algorithm == "stages":
            self.share = canary.share(spec, state)
        elif self.algorithm == "split":
            weights = np.array([v["weight"] for v in spec["variants"]])
            self.weights = weights
            self.cum = np.cumsum(weights)
            self.cum[-1] = 1.0
        elif self.algorithm in ("thompson", "ucb", "gp_ucb", "ei"):
            if self.binary:
                succ = n - s if flip else s
                self.alpha, self.beta = 1.0 + succ, 1.0 + n - succ
                self.mean_u = np.divide(succ, n, out=np.zeros_like(n), where=n > 0)
                self.sd = np.ones(self.k)
            else:
                var = np.divide(ss - n * mean**2, n - 1, out=np.zeros_like(n), where=n > 1)
                pooled = float(var[n > 1].mean()) if (n > 1).any() else PRIOR_VAR
                var = np.where(n > 1, np.maximum(var, 1e-12), max(pooled, 1e-12))
                self.mean_u = -mean if flip else mean
                self.post_mean = (self.mean_u * n) / (n + 1.0)  # prior N(0, var) worth one reward
                self.post_sd = np.sqrt(var / (n + 1.0))
                self.sd = np.sqrt(var)
            self.n = n
            if self.algorithm in ("gp_ucb", "ei"):
                self.cfg = spec["bayesian"]
                self.gp = bayes.Surrogate(self.cfg, n, self.mean_u, self.sd**2 if not self.binary else
                                          self.mean_u * (1.0 - self.mean_u))  # fmt: skip
        else:
            assert state.gram is not None and state.xu is not None
            ctx = spec["context"]
            d = state.gram.shape[1]
            a = state.gram + ctx["ridge"] * np.eye(d)
            self.a_inv = np.linalg.inv(a)
            self.theta = np.einsum("kij,kj->ki", self.a_inv, state.xu)
            self.explore = ctx["alpha"] if self.algorithm == "linucb" else ctx["v"]

    def choose(self, unit_id: str, x: np.ndarray | None, rng: np.random.Generator) -> tuple[int, float]:
        if self.algorithm == "stages":  # the candidate for units hashed below the stage's share
            if sticky_unit(self.experiment_id, unit_id) < self.share:
                return 1, self.share
            return 0, 1.0 - self.share
        if self.algorithm == "split":
            arm = int(np.searchsorted(self.cum, sticky_unit(self.experiment_id, unit_id), side="right"))
            arm = min(arm, self.k - 1)
            return arm, float(self.weights[arm])
        if self.algorithm == "thompson":
            if self.binary:
                draws = rng.beta(self.alpha, self.beta, size=(DRAWS, self.k))
            else:
                draws = rng.normal(self.post_mean, self.post_sd, size=(DRAWS, self.k))
            return self._by_draws(draws)
        if self.algorithm == "gp_ucb":
            return self.gp.ucb(self.cfg["kappa"]), 1.0
        if self.algorithm == "ei":
            return self.gp.ei(), 1.0
        if self.algorithm == "ucb":
            untried = np.flatnonzero(self.n == 0)
            if untried.size:
                return int(untried[0]), 1.0
            bonus = self.sd * np.sqrt(2.0 * np.log(self.n.sum()) / self.n)
            return int(np.argmax(self.mean_u + bonus)), 1.0
        assert x is not None
        mu = self.theta @ x
        width = np.sqrt(np.maximum(np.einsum("i,kij,j->k", x, self.a_inv, x), 0.0))
        if self.algorithm == "linucb":
            return int(np.argmax(mu + self.explore * width)), 1.0
        # linear Thompson sampling: x.theta~ with theta~ ~ N(theta, v^2 A^-1) is N(x.theta, v^2 x A^-1 x)
        # per arm, independent across arms: sampling the scores is sampling the parameters
        return self._by_draws(rng.normal(mu, self.explore * width + 1e-12, size=(DRAWS, self.k)))

    def _by_draws(self, draws: np.ndarray) -> tuple[int, float]:
        best = np.argmax(draws, axis=1)
        arm = int(best[0])
        return arm, float(np.count_nonzero(best == arm)) / len(best)
