"""The `rl` operator and generator: the project's trained RL policy proposing tests.

Each proposal starts at an earlier test that is feasible under the current space (drawn like
mutation's parents: in proportion to the rare buckets it hit, half the mass uniform over the
feasible tests) and takes 1..horizon of the policy's sampled moves. The end point is the target
and the start its anchor, so the pipeline's one projection (`resolve`: the feasible point furthest
from the anchor towards the target) makes every proposal feasible, as it does for mutations.
Before the project has any feasible test, starts are feasible samples of the space.

`generator: "rl"` uses the policy alone and answers 409 (field `generator`) when the project has
none, or has one trained on other params; in `hybrid` the policy is one more arm, present only
while a usable policy is registered, and it earns its share by realised new buckets per test like
every other arm (its tests carry operator `rl`, which the bandit credits).
"""

from __future__ import annotations

import numpy as np

from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.testopt.rl.policy import columns
from optiloop.testopt.rl.registered import RegisteredPolicy, registered
from optiloop.testopt.sampling.feasible import sample_feasible
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.generators import Generator
from optiloop.testopt.strategies.operators import Proposal

NAME = "rl"
UNIFORM_SHARE = 0.5  # of the start distribution: the rest follows rare-bucket energy


def usable(ctx: SuggestContext, policy: RegisteredPolicy | None) -> RegisteredPolicy | None:
    """The policy when it was trained on exactly this space's params, else None."""
    if policy is None or columns(policy.net, ctx.space.names) is None:
        return None
    return policy


def require(ctx: SuggestContext, policy: RegisteredPolicy | None) -> RegisteredPolicy:
    """The policy `generator: "rl"` needs, or a 409 that says what to do."""
    if policy is None:
        raise Conflict(
            "this project has no trained RL policy; train one with POST /v1/projects/{id}/policies:train "
            '{"type": "rl"} (it is used once registered at the staging or production alias)',
            details=[{"field": "generator", "reason": "'rl' needs a registered RL policy for the project"}],
        )
    if usable(ctx, policy) is None:
        raise Conflict(
            f"the project's RL policy ({policy.version_id}) was trained on other params than the space "
            "now has; train it again",
            details=[{"field": "generator", "reason": "the registered RL policy does not fit the space"}],
        )
    return policy


def _starts(ctx: SuggestContext, n: int) -> np.ndarray:
    st = ctx.state
    rows = st.feasible_rows
    if not len(rows):
        return sample_feasible(ctx.space, n, ctx.rng, mode="uniform")
    p = np.full(len(st.U), 0.0)
    p[rows] = UNIFORM_SHARE / len(rows)
    crows, energy = st.rarity(2000)
    ok = st.feasible[crows] if len(crows) else np.zeros(0, dtype=bool)
    crows, energy = crows[ok], energy[ok] + 1e-3
    if len(crows):
        np.add.at(p, crows, (1.0 - UNIFORM_SHARE) * energy / energy.sum())
    else:
        p[rows] *= 1.0 / UNIFORM_SHARE
    return st.U[ctx.rng.choice(len(p), n, p=p / p.sum())]


def op_rl(ctx: SuggestContext, n: int) -> Proposal:
    """n targets from the policy's moves, anchored at their (feasible) starts."""
    policy = ctx.rl_policy
    cols = columns(policy.net, ctx.space.names) if policy is not None else None
    if policy is None or cols is None or n <= 0:
        return Proposal(np.empty((0, ctx.space.dim)))
    A = _starts(ctx, n)
    if not len(A):
        return Proposal(np.empty((0, ctx.space.dim)))
    net = policy.net
    steps = ctx.rng.integers(1, net.horizon + 1, len(A))
    moved = net.rollout(A[:, cols], steps, ctx.rng)
    T = A.copy()
    T[:, cols] = moved
    return Proposal(T, A)


class RLGenerator(Generator):
    """`generator: "rl"`: the whole batch from the policy, spread by the usual selection."""

    name = NAME
    oversample = 3

    def weights(self, ctx: SuggestContext) -> dict[str, float]:
        return {NAME: 1.0}

    def policy_version(self, ctx: SuggestContext, weights: dict[str, float]) -> str:
        """The registry version that proposed the batch."""
        return ctx.rl_policy.version_id if ctx.rl_policy is not None else super().policy_version(ctx, weights)


def policy_for(deps: Deps, ctx: SuggestContext, generator: str) -> RegisteredPolicy | None:
    """What a suggest call with `generator` gets: `rl` its policy or a 409; `hybrid` the policy
    as an arm when a usable one is registered; any other generator nothing (no lookup)."""
    if generator == NAME:
        return require(ctx, registered(deps, ctx.history.project_id))
    if generator == "hybrid":
        return usable(ctx, registered(deps, ctx.history.project_id))
    return None
