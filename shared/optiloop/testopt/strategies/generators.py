"""Generators: how a batch's slots are shared among candidate operators, and how candidates score.

`random` and `qmc` are the references; `coverage` is model-free (space filling, boundary values,
constraint edges, adaptive random testing via the spread term, t-way pairs, rare-bucket
mutation); `bo` ranks a wide pool with the surrogate's upper confidence bound; `hybrid` treats
the operators as arms of a bandit and moves slots towards those whose tests found new buckets
and failures on this system, keeping a floor for every arm so it never stops exploring.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

import numpy as np

from optiloop.testopt.strategies.context import SuggestContext


def apportion(weights: dict[str, float], k: int) -> dict[str, int]:
    """Largest-remainder rounding of k slots by weight (deterministic tie-break by name)."""
    names = sorted(weights)
    w = np.array([max(weights[n], 0.0) for n in names])
    w = w / w.sum() if w.sum() > 0 else np.full(len(names), 1.0 / len(names))
    raw = w * k
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: k - int(out.sum())]:
        out[i] += 1
    return {n: int(c) for n, c in zip(names, out, strict=True) if c > 0}


class Generator(ABC):
    name: str
    oversample: int = 4
    model_scores: bool = False  # does scoring use the surrogate (when one exists)?
    spread_weight: float = 0.5

    @abstractmethod
    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        """Share of the batch per operator."""

    def allocate(self, ctx: SuggestContext, k: int) -> dict[str, int]:
        return apportion(self.weights(ctx), k)

    def policy_version(self, ctx: SuggestContext, weights: dict[str, float]) -> str:
        blob = ",".join(f"{k}:{weights[k]:.3f}" for k in sorted(weights))
        return f"{self.name}-r{ctx.state.n_runs}-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"


class RandomGenerator(Generator):
    name = "random"
    oversample = 1
    spread_weight = 0.0

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {"uniform": 1.0}


class QMCGenerator(Generator):
    name = "qmc"
    oversample = 1
    spread_weight = 0.0

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {"qmc": 1.0}


COVERAGE_MIX = {"spread": 0.35, "boundary": 0.2, "edge": 0.15, "mutate": 0.2, "crossover": 0.1}


class CoverageGenerator(Generator):
    name = "coverage"

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        if not ctx.state.corpus:
            return {"spread": 0.55, "boundary": 0.3, "edge": 0.15}
        return dict(COVERAGE_MIX)


class BOGenerator(Generator):
    name = "bo"
    model_scores = True
    oversample = 3

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {"model": 1.0}


HYBRID_PRIOR = {"spread": 0.3, "boundary": 0.2, "edge": 0.15, "mutate": 0.15, "crossover": 0.1, "model": 0.1}
FLOOR = 0.05
PRIOR_N = 10.0


class HybridGenerator(Generator):
    name = "hybrid"
    model_scores = True

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        """Thompson sampling over operators on their recent rewards, shrunk to the global mean."""
        stats = ctx.state.op_rewards
        every = [r for rs in stats.values() for r in rs]
        if len(every) < 20:
            return dict(HYBRID_PRIOR if ctx.state.corpus else {"spread": 0.55, "boundary": 0.3, "edge": 0.15})
        mu0 = float(np.mean(every))
        sd0 = float(np.std(every)) + 1e-6
        theta = {}
        for op, prior in HYBRID_PRIOR.items():
            rs = stats.get(op, [])
            n = len(rs)
            mean = (sum(rs) + mu0 * PRIOR_N) / (n + PRIOR_N)
            theta[op] = max(ctx.rng.normal(mean, sd0 / np.sqrt(n + PRIOR_N)), 0.0) + 1e-6 * prior
        total = sum(theta.values())
        w = {op: t / total for op, t in theta.items()}
        return {op: FLOOR + (1 - FLOOR * len(w)) * v for op, v in w.items()}


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (RandomGenerator(), QMCGenerator(), CoverageGenerator(), BOGenerator(), HybridGenerator())
}
