"""Active learning: tests where the project's surrogates disagree most.

The `model` operator bets on what the surrogate *expects* (its upper confidence bound); this one
bets on what the surrogates do not know: a wide pool (space filling plus mutations of rare-bucket
tests, as `model` draws it) ranked by the disagreement of a committee of small bootstrap models
(`surrogate/ensemble.py`), with the registered failure model, when the suggest call uses one, as
one more member. Uncertainty sampling by committee (query by committee) — on a system whose
behaviour changes where the models cannot yet tell, those tests are the informative ones.

It is one more arm of `hybrid` and earns its share as every arm does, by the new buckets and new
failure modes its tests find per test against the Sobol' reference; `generator: "active"` runs it
alone. Before MIN_RUNS_FOR_MODEL runs there is nothing to disagree about and it proposes what
`spread` would. Cost: five 64-feature models, one 64 x 64 inverse each, per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from optiloop.testopt.strategies.context import MIN_RUNS_FOR_MODEL, SuggestContext
from optiloop.testopt.surrogate.ensemble import Committee, Disagreement, disagreement

if TYPE_CHECKING:
    from optiloop.testopt.strategies.operators import Proposal

POOL_SPREAD, POOL_MUTATE = 6, 2  # pool per wanted test: space filling, mutations (as op_model)


def committee(ctx: SuggestContext) -> Committee | None:
    """The committee over every run so far, or None before there are enough runs to fit one."""
    if ctx.state.n_runs < MIN_RUNS_FOR_MODEL:
        return None
    return ctx.state.committee_now(ctx.history)


def uncertainty(ctx: SuggestContext, U: np.ndarray, E: np.ndarray | None = None) -> Disagreement | None:
    """The committee's disagreement at unit points U (E: their embeddings, if already made)."""
    c = committee(ctx)
    if c is None or not len(U):
        return None
    extra = None
    if ctx.trained is not None:  # the registered failure model, when this call uses it
        extra = ctx.trained.failure_prob(ctx.space.to_dicts(ctx.space.decode(U)))
    return disagreement(c, ctx.state.emb(U) if E is None else E, extra)


def op_uncertainty(ctx: SuggestContext, n: int) -> Proposal:
    """A wide pool cut to the n points where the committee disagrees most."""
    from optiloop.testopt.strategies.operators import Proposal, op_mutate, op_spread

    spread = op_spread(ctx, POOL_SPREAD * n)
    if committee(ctx) is None or spread.anchors is None:
        return spread  # nothing to disagree about yet
    mut = op_mutate(ctx, POOL_MUTATE * n)
    if mut.anchors is None:
        return spread
    T = np.vstack([spread.targets, mut.targets])
    A = np.vstack([spread.anchors, mut.anchors])
    d = uncertainty(ctx, T)
    assert d is not None  # the committee exists and T is not empty
    pick = np.argsort(-d.score, kind="stable")[:n]
    return Proposal(T[pick], A[pick])
