"""The numpy Sobol' sequence and a project's stream of feasible Sobol' points."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.testopt.sampling import sobol
from optiloop.testopt.sampling.sobol import FeasibleStream, scrambled_sobol
from optiloop.testopt.space.schema import ConstraintDoc, build_space


def test_unscrambled_points_are_scipys(monkeypatch: pytest.MonkeyPatch) -> None:
    qmc = pytest.importorskip("scipy.stats.qmc")
    monkeypatch.setattr(
        sobol, "_scrambled", lambda seed, d: (sobol._directions()[:d], np.zeros(d, np.uint64))
    )
    mine = scrambled_sobol(256, 7, seed=0)
    ref = qmc.Sobol(7, scramble=False, bits=32).random(256)
    assert np.abs(mine - ref).max() < 1e-9  # ours sits in the middle of the same 2^-32 cell


def test_scrambled_points_keep_the_net_property_and_differ_by_seed() -> None:
    x = scrambled_sobol(1024, 6, seed=11)
    assert ((x > 0) & (x < 1)).all()
    for j in range(6):  # each coordinate: one point in every 1/1024 interval (scrambling keeps nets)
        assert len(set(np.floor(x[:, j] * 1024).astype(int))) == 1024
    cells = {tuple(c) for c in np.floor(x[:, [0, 1]] * 32).astype(int)}
    assert len(cells) == 1024  # the first two coordinates: a (0, 10, 2)-net
    assert not np.allclose(x, scrambled_sobol(1024, 6, seed=12))
    # a stretch of the sequence is the same whether drawn alone or as part of a longer draw
    assert np.array_equal(scrambled_sobol(100, 6, seed=11, start=300), x[300:400])


def test_feasible_stream_continues_where_it_stopped_and_skips_infeasible_points() -> None:
    space = build_space(
        [
            ConstraintDoc(
                "s",
                "hard",
                0.0,
                {
                    "params": {
                        "a": {"type": "number", "min": 0, "max": 1},
                        "b": {"type": "number", "min": 0, "max": 1},
                    },
                    "relations": ["a + b <= 0.5"],
                },
            )
        ]
    )
    one = FeasibleStream(space, seed=3)
    first, second = one.take(0, 40), one.take(40, 40)
    fresh = FeasibleStream(space, seed=3).take(0, 80)  # a new process rebuilds the same stream
    assert np.array_equal(np.vstack([first, second]), fresh)
    assert space.feasible(space.decode(fresh)).all()
    assert len({tuple(r) for r in fresh}) == 80
    assert np.array_equal(one.take(10, 5), fresh[10:15])  # asking behind the kept stretch rescans
