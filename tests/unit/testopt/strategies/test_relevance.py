"""Learned coordinate relevance: which params the buckets depend on, and stratification weighted by it."""

from __future__ import annotations

import numpy as np

from optiloop.testopt.history import history_for
from optiloop.testopt.sampling.feasible import feasible_mask, sample_feasible
from optiloop.testopt.spaces import space_for
from optiloop.testopt.strategies.context import SuggestContext
from optiloop.testopt.strategies.relevance import FLOOR, MIN_RUNS, relevance
from optiloop.testopt.strategies.state import state_for
from optiloop.testopt.strategies.stratify import op_stratify
from optiloop.testopt.sut.driver import LocalLoop

NAMES = ["a", "b", "c", "d", "e", "f"]
SPACE = {
    "params": {n: {"type": "number", "min": 0.0, "max": 1.0} for n in NAMES},
    "relations": ["a + f <= 1.8"],
}
G = 6  # the buckets: cells of a 6 x 6 grid over (b, e), and which half of b


def _buckets(p: dict[str, float]) -> list[int]:
    i, j = min(int(p["b"] * G), G - 1), min(int(p["e"] * G), G - 1)
    return [i * G + j, 100 + int(p["b"] >= 0.5)]


def _ctx(runs: int, seed: int = 0) -> SuggestContext:
    loop = LocalLoop(SPACE, name="p")
    for i in range(runs // 20):
        tests = loop.suggest(generator="random", batch_size=20, seed=i)["tests"]
        hit = [{"buckets_hit": _buckets(t["params"])} for t in tests]
        outcomes = [{"status": "pass", "duration_ms": 1, "cost_cents": 1, "coverage_delta": c} for c in hit]
        loop.ingest([t["id"] for t in tests], outcomes)
    store, pid = loop.deps.store, loop.project_id
    space, h = space_for(store, pid), history_for(store, pid)
    st = state_for(id(store), pid, space, h)
    return SuggestContext(space=space, history=h, state=st, rng=np.random.default_rng(seed), seed=seed)


def test_the_coordinates_the_buckets_depend_on_get_the_weight() -> None:
    w = relevance(_ctx(200))
    assert w is not None and w.shape == (6,)
    b, e = NAMES.index("b"), NAMES.index("e")
    others = np.delete(w, [b, e])
    assert max(w[b], w[e]) == 1.0 and min(w[b], w[e]) > 0.5
    assert others.max() < 0.25 and others.min() >= FLOOR  # irrelevant, but never dropped outright


def test_nothing_is_learned_from_too_few_runs() -> None:
    assert relevance(_ctx(MIN_RUNS - 20)) is None


def _grid_cells(U: np.ndarray) -> set[tuple[int, int]]:
    b, e = NAMES.index("b"), NAMES.index("e")
    return {(min(int(u[b] * G), G - 1), min(int(u[e] * G), G - 1)) for u in U}


def test_weighted_stratification_reaches_empty_cells_of_the_pair_that_matters() -> None:
    ctx = _ctx(60)
    a = op_stratify(ctx, 10)
    assert a.shape == (10, 6) and feasible_mask(ctx.space, a).all()
    np.testing.assert_array_equal(a, op_stratify(_ctx(60), 10))  # same history and seed, same points
    wins = 0
    for seed in range(5):  # against the first points of the same kind of uniform feasible pool
        ctx = _ctx(60, seed=seed)
        seen = _grid_cells(ctx.state.U)
        picked = op_stratify(ctx, 10)
        plain = sample_feasible(ctx.space, 10, np.random.default_rng(seed + 100), mode="uniform")
        wins += len(_grid_cells(picked) - seen) > len(_grid_cells(plain) - seen)
    assert wins >= 4


def test_the_weights_aim_the_batch_at_that_pair_more_than_unweighted_stratification(monkeypatch) -> None:
    from optiloop.testopt.strategies import stratify

    def reached(weighted: bool) -> int:
        total = 0
        for seed in range(6):
            ctx = _ctx(60, seed=seed)
            if not weighted:
                monkeypatch.setattr(stratify, "relevance", lambda ctx: None)
            total += len(_grid_cells(op_stratify(ctx, 10)) - _grid_cells(ctx.state.U))
            monkeypatch.undo()
        return total

    assert reached(weighted=True) > reached(weighted=False)
