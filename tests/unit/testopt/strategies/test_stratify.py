"""Pairwise stratification: feasible points that reach the pair cells no earlier test reached."""

from __future__ import annotations

import numpy as np

from optiloop.testopt.history import history_for
from optiloop.testopt.sampling.feasible import feasible_mask, sample_feasible
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.state import state_for
from optiloop.testopt.strategies.stratify import (
    MAX_RES,
    MIN_RES,
    _pairs,
    _sizes,
    cell_codes,
    op_stratify,
    resolution,
)

SPACE = {
    "params": {
        "x": {"type": "number", "min": 0.0, "max": 1.0},
        "y": {"type": "number", "min": 0.0, "max": 10.0},
        "n": {"type": "integer", "min": 1, "max": 3},
        "mode": {"type": "string", "enum": ["a", "b", "c", "d"]},
        "flag": {"type": "boolean"},
    },
    "relations": ["x + y / 10 <= 1.6"],
}


def _ctx(loop_factory, batches: int, seed: int = 0) -> SuggestContext:
    loop = loop_factory(SPACE)
    for i in range(batches):
        loop.ingest(loop.suggest(generator="random", batch_size=20, seed=i)["tests"])
    store, pid = loop.deps.store, loop.project_id
    space, h = space_for(store, pid), history_for(store, pid)
    st = state_for(id(store), pid, space, h)
    return SuggestContext(space=space, history=h, state=st, rng=np.random.default_rng(seed), seed=seed)


def _new_cells(ctx: SuggestContext, U: np.ndarray) -> int:
    """Pair cells the points reach that no earlier test reached (each counted once)."""
    r = resolution(ctx.state.n_tests)
    sizes = _sizes(ctx, r)
    ii, jj = _pairs(ctx.space.dim, ctx.seed)
    old = {(p, c) for row in cell_codes(ctx.state.U, sizes, ii, jj, r) for p, c in enumerate(row)}
    new = {(p, c) for row in cell_codes(U, sizes, ii, jj, r) for p, c in enumerate(row)}
    return len(new - old)


def test_resolution_grows_with_the_tests_within_bounds() -> None:
    got = [resolution(n) for n in (0, 10, 100, 300, 1000, 10**6)]
    assert got == sorted(got) and got[0] == MIN_RES and got[-1] == MAX_RES


def test_points_are_feasible_seeded_and_reach_more_empty_cells_than_the_pool_order(loop_factory) -> None:
    ctx = _ctx(loop_factory, batches=3)
    a = op_stratify(ctx, 10)
    assert a.shape == (10, ctx.space.dim) and feasible_mask(ctx.space, a).all()
    again = op_stratify(_ctx(loop_factory, batches=3), 10)
    np.testing.assert_array_equal(a, again)  # the same history and seed give the same points
    wins = 0
    for seed in range(5):  # greedy selection against the first points of the same kind of pool
        ctx = _ctx(loop_factory, batches=3, seed=seed)
        picked = op_stratify(ctx, 10)
        plain = sample_feasible(ctx.space, 10, np.random.default_rng(seed + 100), mode="uniform")
        wins += _new_cells(ctx, picked) > _new_cells(ctx, plain)
    assert wins == 5


def test_hybrid_runs_the_arm_and_credits_it(loop_factory) -> None:
    loop = loop_factory(SPACE)
    for i in range(5):
        loop.ingest(loop.suggest(generator="hybrid", batch_size=20, seed=i)["tests"])
    audits = loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest")
    mixes = [a.details["operator_mix"] for a in sorted(audits, key=lambda a: a.seq)]
    assert any(m.get("stratify", 0) > 0 for m in mixes[1:])
