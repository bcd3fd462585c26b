"""Bayesian experiments: Bayesian optimisation over decoding parameters (temperature, top_p, max_tokens,
any numeric config) by a Gaussian process over the variants' parameter vectors.

The variants are the candidate settings (up to 100), each a config with a number for every name in
`parameters`; one experiment per task type. Parameters are scaled to [0, 1] over the candidates'
range (`max_tokens`-like ones spanning a factor of 8 or more on a log scale). The GP (RBF kernel,
`lengthscale` in scaled units) is conditioned on each tried candidate's mean utility with noise
sigma^2 / n — the same per-variant sums every experiment keeps, so the state stays order-free and
exactly rebuilt, and nearby settings share what one of them learned. sigma^2 is the pooled within-
variant variance (p(1 - p) for binary metrics); the signal variance is taken equal to it.

Acquisition: GP-UCB (`gp_ucb`, mean + sqrt(beta_t) * sd with Srinivas et al.'s beta_t for a finite
set, scaled by `kappa`) or expected improvement (`ei`) over the best posterior mean. Both are
deterministic (propensity 1); untried candidates are reached through their posterior sd.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm

from optiloop.errors import FieldProblem

MIN_VAR = 1e-6


def normalise(
    raw: dict[str, Any] | None, variants: list[dict[str, Any]], problems: list[FieldProblem]
) -> dict[str, Any]:
    raw = raw or {}
    names = list(raw.get("parameters") or [])
    if not names:
        problems.append(FieldProblem("bayesian.parameters", "name the numeric config keys to optimise"))
        return {"parameters": [], "points": [], "lengthscale": 0.25, "kappa": 1.0}
    points: list[list[float]] = []
    for k, v in enumerate(variants):
        row = []
        for name in names:
            value = v["config"].get(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                problems.append(FieldProblem(f"variants[{k}].config.{name}", "must be a number"))
                value = 0.0
            row.append(float(value))
        points.append(row)
    return {
        "parameters": names,
        "points": _scale(np.array(points)).tolist(),
        "lengthscale": float(raw.get("lengthscale") or 0.25),
        "kappa": float(raw["kappa"]) if raw.get("kappa") is not None else 1.0,
    }


def _scale(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        if col.min() > 0 and col.max() / col.min() >= 8:
            col = np.log(col)
        span = col.max() - col.min()
        out[:, j] = (col - col.min()) / span if span > 0 else 0.0
    return out


class Surrogate:
    """The GP posterior over every candidate, built once per checkpoint revision (in `Policy`)."""

    def __init__(self, cfg: dict[str, Any], n: np.ndarray, mean_u: np.ndarray, var: np.ndarray) -> None:
        x = np.asarray(cfg["points"], dtype=float)
        k = len(n)
        seen = n > 0
        noise = float(np.average(var[seen], weights=n[seen])) if seen.any() and (n[seen] > 1).any() else 0.25
        noise = max(noise, MIN_VAR)
        sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)
        kern = noise * np.exp(-sq / (2.0 * cfg["lengthscale"] ** 2))
        self.t = float(n.sum())
        if not seen.any():
            self.mu, self.sd = np.zeros(k), np.full(k, math.sqrt(noise))
            self.best = 0.0
            return
        prior = float(np.average(mean_u[seen], weights=n[seen]))
        o = np.flatnonzero(seen)
        a = kern[np.ix_(o, o)] + np.diag(noise / n[o])
        chol = np.linalg.cholesky(a + MIN_VAR * np.eye(len(o)))
        alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, mean_u[o] - prior))
        cross = kern[:, o]
        self.mu = prior + cross @ alpha
        v = np.linalg.solve(chol, cross.T)
        self.sd = np.sqrt(np.maximum(noise - (v * v).sum(axis=0), MIN_VAR))
        self.best = float(self.mu[o].max())

    def ucb(self, kappa: float) -> int:
        k = len(self.mu)
        beta = 2.0 * math.log(k * (self.t + 1.0) ** 2 * math.pi**2 / (6.0 * 0.1))
        return int(np.argmax(self.mu + kappa * math.sqrt(beta) * self.sd))

    def ei(self) -> int:
        z = (self.mu - self.best) / self.sd
        return int(np.argmax((self.mu - self.best) * norm.cdf(z) + self.sd * norm.pdf(z)))
