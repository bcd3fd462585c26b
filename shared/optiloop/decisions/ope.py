"""Off-policy evaluation: what a new policy would have earned, estimated from decisions another policy
made, using the propensities every decision logs (`decision.propensity`).

For n logged (context x_i, action a_i, reward r_i, propensity p_i) and a target policy pi(a | x):

- IPS (inverse propensity scoring): mean(w_i r_i), w_i = pi(a_i | x_i) / p_i. Unbiased when every
  action the target takes had p > 0; its variance grows with the weights.
- SNIPS (self-normalised IPS): sum(w_i r_i) / sum(w_i). Slightly biased, much steadier.
- DR (doubly robust): mean(sum_a pi(a | x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i))) with q a reward
  model (here ridge regression per action on the logged features, cross-fitted on two halves so a
  row's own reward never fits its own prediction). Unbiased if either the propensities or q are
  right, and lower variance than IPS when q is decent.

Each estimate comes with a standard error (the sd of its per-row terms / sqrt(n); SNIPS by the delta
method) and a normal 95% interval. Deterministic policies' propensity 1 (UCB, LinUCB) leaves no
exploration to learn from: only actions the logging policy took are evaluable, which the effective
sample size (`ess` = (sum w)^2 / sum w^2) makes visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    ci: tuple[float, float]


def _est(terms: np.ndarray) -> Estimate:
    n = len(terms)
    value = float(terms.mean())
    se = float(terms.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return Estimate(value, se, (value - Z95 * se, value + Z95 * se))


def weights(actions: np.ndarray, propensities: np.ndarray, target: np.ndarray) -> np.ndarray:
    """pi(a_i | x_i) / p_i; `target` is (n, K): the target policy's action probabilities per row."""
    w: np.ndarray = target[np.arange(len(actions)), actions] / propensities
    return w


def ips(rewards: np.ndarray, w: np.ndarray) -> Estimate:
    return _est(w * rewards)


def snips(rewards: np.ndarray, w: np.ndarray) -> Estimate:
    total = float(w.sum())
    if total <= 0:
        return Estimate(0.0, 0.0, (0.0, 0.0))
    value = float((w * rewards).sum() / total)
    # delta method: terms w (r - V) / mean(w)
    terms = w * (rewards - value) / (total / len(w))
    se = float(terms.std(ddof=1) / np.sqrt(len(w))) if len(w) > 1 else 0.0
    return Estimate(value, se, (value - Z95 * se, value + Z95 * se))


def reward_model(
    x: np.ndarray, actions: np.ndarray, rewards: np.ndarray, k: int, ridge: float = 1.0
) -> np.ndarray:
    """q(x, a) for every row and action, cross-fitted: rows in one half are predicted by the model fitted
    on the other half (ridge per action; an action with no rows predicts the half's mean reward)."""
    n, d = x.shape
    q = np.zeros((n, k))
    half = np.arange(n) % 2
    for h in (0, 1):
        fit, pred = half != h, half == h
        base = float(rewards[fit].mean()) if fit.any() else 0.0
        for a in range(k):
            rows = fit & (actions == a)
            if not rows.any():
                q[pred, a] = base
                continue
            xa, ra = x[rows], rewards[rows] - base
            theta = np.linalg.solve(xa.T @ xa + ridge * np.eye(d), xa.T @ ra)
            q[pred, a] = base + x[pred] @ theta
    return q


def dr(
    rewards: np.ndarray, actions: np.ndarray, w: np.ndarray, target: np.ndarray, q: np.ndarray
) -> Estimate:
    direct = (target * q).sum(axis=1)
    logged = q[np.arange(len(actions)), actions]
    return _est(direct + w * (rewards - logged))


def ess(w: np.ndarray) -> float:
    s2 = float((w * w).sum())
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def evaluate(
    x: np.ndarray, actions: np.ndarray, rewards: np.ndarray, propensities: np.ndarray, target: np.ndarray
) -> dict[str, Estimate | float]:
    """All three estimates of the target's value, and the effective sample size."""
    w = weights(actions, propensities, target)
    q = reward_model(x, actions, rewards, target.shape[1])
    return {"ips": ips(rewards, w), "snips": snips(rewards, w), "dr": dr(rewards, actions, w, target, q),
            "ess": ess(w)}  # fmt: skip
