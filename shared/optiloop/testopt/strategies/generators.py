"""Generators: how a batch's slots are shared among candidate operators, and how candidates score.

`random` and `qmc` are the references; `coverage` is model-free (space filling, boundary values,
constraint edges, adaptive random testing via the spread term, t-way pairs, rare-bucket
mutation); `bo` ranks a wide pool with the surrogate's upper confidence bound; `hybrid` treats
QMC and the structured operators as arms of a bandit: QMC is the default, and a structured bet
takes slots only while its tests find more new buckets and failures per test on this system.
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


# Before any run: QMC carries the batch; the structured bets get a few tests to show what they find.
HYBRID_START = {"qmc": 0.75, "spread": 0.1, "boundary": 0.15}
HYBRID_ARMS = ("qmc", "spread", "boundary", "edge", "mutate", "crossover", "model", "uncertainty")
MODEL_ARMS = frozenset({"model", "uncertainty"})  # arms that need a surrogate: from 16 runs on
REFERENCE = "qmc"
# Pairwise stratification samples as the reference does (rejection, no edge bias, no model) and
# only orders what it draws (strategies/stratify.py). It is not one more bet against the reference
# but another way to fill the reference's share: the two split that share by which finds more
# new buckets per test, so the structured bets still face one reference, not the best of two.
STRATIFIED = "stratify"
HALF_LIFE = 60.0  # runs: an arm is judged on what it found lately (structured bets saturate fast)
PRIOR_N = 8.0  # pseudo-tests of prior in each arm's posterior
# A structured arm's prior rate, as a share of the pooled mean: it has to show it pays. 0.1, not
# 0.2: on the tuning systems a fifth still bought too many trial tests of bets that did not pay
# (pooled gap to the ceiling +1.4 to +1.8 points on two disjoint subsets; docs/benchmarks.md).
SKEPTIC = 0.1
REFERENCE_FLOOR = 0.2  # QMC keeps running, so every arm is judged against fresh reference tests
DRAWS = 512
PLUGIN_START = 0.05
# A policy registered mid-project has no tests yet to be judged on: it gets RL_START of the batch
# until RL_WARMUP of its tests are credited in the window, then its share is the bandit's like any arm's.
RL_START, RL_WARMUP = 0.1, 10


def plugin_arms() -> list[str]:
    from optiloop.testopt.strategies.plugins import plugins

    return [f"plugin:{n}" for n in sorted(plugins())]


def rl_arm(ctx: SuggestContext) -> list[str]:
    """The trained RL policy's arm, only while one that fits the space is registered (it then
    earns its share like the others: see strategies/rl.py)."""
    return ["rl"] if getattr(ctx, "rl_policy", None) is not None else []  # duck-typed contexts too


class HybridGenerator(Generator):
    name = "hybrid"
    model_scores = True

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        """Discounted Thompson sampling over the operators, with QMC as the reference arm.

        An arm's reward is the new buckets its tests found (plus severity for a new failure mode),
        credited in a random order within the batch so no arm is first to every shared bucket.
        Each arm's rate has a Gamma posterior (Poisson counts) over credit that halves every
        HALF_LIFE runs; QMC's prior is the pooled recent mean, a structured arm's a tenth of it.
        An arm's share of the batch is its probability of being the best, and QMC never drops
        below REFERENCE_FLOOR. So a structured bet holds a share only while it finds clearly more
        per test than the project's own Sobol' stream does, and a system none of the bets
        understands is tested like a Sobol' sampler with rejection would test it.
        """
        ops, vals = ctx.state.rewards(int(8 * HALF_LIFE))
        if len(vals) < 20:  # each plug-in gets a few tests of the first batches to show what it finds
            start = {**HYBRID_START, **dict.fromkeys(plugin_arms() + rl_arm(ctx), PLUGIN_START)}
            return {a: v / sum(start.values()) for a, v in start.items()}
        discount = 0.5 ** (np.arange(len(vals))[::-1] / HALF_LIFE)
        mu0 = float(discount @ vals / discount.sum())
        arms = [a for a in HYBRID_ARMS if a not in MODEL_ARMS or ctx.state.n_runs >= 16] + plugin_arms()
        arms += rl_arm(ctx)
        alpha, beta = [], []
        for arm in arms:
            mine = ops == arm
            prior = mu0 * (1.0 if arm == REFERENCE else SKEPTIC)
            alpha.append(float(discount[mine] @ vals[mine]) + prior * PRIOR_N + 1e-3)
            beta.append(float(discount[mine].sum()) + PRIOR_N)
        draws = ctx.rng.gamma(np.array(alpha), 1.0 / np.array(beta), size=(DRAWS, len(arms)))
        best = np.bincount(np.argmax(draws, axis=1), minlength=len(arms)) / DRAWS
        w = {a: float(b) for a, b in zip(arms, best, strict=True)}
        if "rl" in w and int((ops == "rl").sum()) < RL_WARMUP:  # a newly registered policy: a trial
            w = {a: RL_START if a == "rl" else v * (1.0 - RL_START) / (1.0 - w["rl"]) for a, v in w.items()}
        if w[REFERENCE] < REFERENCE_FLOOR:
            rest = 1.0 - w[REFERENCE]
            w = {
                a: REFERENCE_FLOOR if a == REFERENCE else v * (1.0 - REFERENCE_FLOOR) / rest
                for a, v in w.items()
            }
        return split_reference(w, ops, vals, discount, mu0, ctx.rng)


def split_reference(
    w: dict[str, float],
    ops: np.ndarray,
    vals: np.ndarray,
    discount: np.ndarray,
    mu0: float,
    rng: np.random.Generator,
) -> dict[str, float]:
    """The reference's share split between the Sobol' stream and pairwise stratification, by the
    probability that stratification finds more per test (two-arm Thompson sampling, both at the
    reference's prior); the Sobol' stream keeps REFERENCE_FLOOR of the batch whatever the split."""
    ref = w[REFERENCE]
    post = []
    for arm in (REFERENCE, STRATIFIED):
        mine = ops == arm
        post.append(
            (float(discount[mine] @ vals[mine]) + mu0 * PRIOR_N + 1e-3, float(discount[mine].sum()) + PRIOR_N)
        )
    draws = rng.gamma(np.array([a for a, _ in post]), 1.0 / np.array([b for _, b in post]), size=(DRAWS, 2))
    share = float(np.mean(draws[:, 1] > draws[:, 0]))
    strat = min(ref * share, max(ref - REFERENCE_FLOOR, 0.0))
    return {**w, REFERENCE: ref - strat, STRATIFIED: strat}


class ActiveGenerator(Generator):
    """Active learning alone: the tests where the surrogate committee disagrees most."""

    name = "active"
    model_scores = True
    oversample = 3

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {"uncertainty": 1.0}


class PluginGenerator(Generator):
    """An installed plug-in on its own (`generator: "<its name>"`); see strategies/plugins.py."""

    oversample = 1
    spread_weight = 0.0

    def __init__(self, name: str) -> None:
        self.name = name

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {f"plugin:{self.name}": 1.0}


def generators() -> dict[str, Generator]:
    """The built-in generators and every installed plug-in."""
    from optiloop.testopt.strategies.plugins import plugins
    from optiloop.testopt.strategies.rl import RLGenerator

    found = plugins()
    # `rl` is not in GENERATORS: it needs the project's registered policy (a 409 without one)
    return {**GENERATORS, "rl": RLGenerator(), **{n: PluginGenerator(n) for n in sorted(found)}}


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        RandomGenerator(),
        QMCGenerator(),
        CoverageGenerator(),
        BOGenerator(),
        HybridGenerator(),
        ActiveGenerator(),
    )
}
