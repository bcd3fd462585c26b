"""Non-dominated sorting and crowding distance against brute force on random and tied points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from optiloop.testopt.pareto import (
    crowding_by_front,
    crowding_distance,
    dominates,
    non_dominated_ranks,
    select_crowding,
    select_scalarised,
)


def brute_dominates(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = list(zip(a, b, strict=True))
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def brute_ranks(F: np.ndarray) -> list[int]:
    """Peel fronts by the definition: the points no remaining point dominates."""
    left = set(range(len(F)))
    ranks = [-1] * len(F)
    r = 0
    while left:
        front = {i for i in left if not any(brute_dominates(F[j], F[i]) for j in left if j != i)}
        for i in front:
            ranks[i] = r
        left -= front
        r += 1
    return ranks


def brute_crowding(F: np.ndarray) -> list[float]:
    """Deb et al.'s crowding distance, one objective at a time, ties broken by index."""
    n, m = F.shape
    if n <= 2:
        return [float("inf")] * n
    out = [0.0] * n
    for j in range(m):
        order = sorted(range(n), key=lambda i: (F[i, j], i))
        lo, hi = F[order[0], j], F[order[-1], j]
        if hi <= lo:
            continue
        out[order[0]] = out[order[-1]] = float("inf")
        for a, i, b in zip(order, order[1:], order[2:], strict=False):
            out[i] += (F[b, j] - F[a, j]) / (hi - lo)
    return out


# small integer grids make ties and duplicate points common, which is where sorting code breaks
POINTS = st.integers(1, 40).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda m: (
            arrays(np.float64, (n, m), elements=st.integers(0, 4).map(float))
            | arrays(np.float64, (n, m), elements=st.floats(-1e3, 1e3, allow_nan=False))
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(POINTS)
def test_ranks_match_brute_force(F: np.ndarray) -> None:
    assert non_dominated_ranks(F).tolist() == brute_ranks(F)


@settings(max_examples=200, deadline=None)
@given(POINTS)
def test_dominance_matrix_matches_the_definition(F: np.ndarray) -> None:
    D = dominates(F)
    for i, j in itertools.product(range(len(F)), repeat=2):
        assert D[i, j] == brute_dominates(F[i], F[j])


@settings(max_examples=200, deadline=None)
@given(POINTS)
def test_crowding_matches_brute_force_on_each_front(F: np.ndarray) -> None:
    ranks = non_dominated_ranks(F)
    got = crowding_by_front(F, ranks)
    for r in set(ranks.tolist()):
        idx = np.flatnonzero(ranks == r)
        np.testing.assert_allclose(got[idx], brute_crowding(F[idx]), rtol=1e-12, atol=1e-12)


def test_random_clouds_of_several_hundred_points() -> None:
    rng = np.random.default_rng(0)
    for m in (2, 3, 5):
        F = rng.random((150, m))
        assert non_dominated_ranks(F).tolist() == brute_ranks(F)


def test_a_known_front() -> None:
    F = np.array([[1, 5], [2, 3], [4, 1], [3, 4], [5, 5], [2, 3]], dtype=float)
    assert non_dominated_ranks(F).tolist() == [0, 0, 0, 1, 2, 0]  # equal points share a front
    cd = crowding_distance(F[[0, 1, 2]])
    assert np.isinf(cd[0]) and np.isinf(cd[2]) and cd[1] == pytest.approx((4 - 1) / 3 + (5 - 1) / 4)


def test_every_point_of_a_front_is_undominated_and_later_ones_are_dominated() -> None:
    F = np.random.default_rng(3).random((80, 3))
    ranks = non_dominated_ranks(F)
    for i in range(len(F)):
        better = [j for j in range(len(F)) if brute_dominates(F[j], F[i])]
        assert all(ranks[j] < ranks[i] for j in better)
        if ranks[i] > 0:
            assert any(ranks[j] == ranks[i] - 1 for j in better)


def test_crowding_selection_takes_whole_fronts_then_the_least_crowded() -> None:
    F = np.random.default_rng(1).random((60, 2))
    ranks = non_dominated_ranks(F)
    crowd = crowding_by_front(F, ranks)
    k = int((ranks == 0).sum()) + 2
    pick = select_crowding(ranks, crowd, k)
    assert len(pick) == k and len(set(pick.tolist())) == k
    assert set(np.flatnonzero(ranks == 0)) <= set(pick.tolist())
    second = np.flatnonzero(ranks == 1)
    taken = [i for i in pick if ranks[i] == 1]
    assert sorted(crowd[taken]) == sorted(crowd[second])[-2:]
    assert len(select_crowding(ranks, crowd, 1000)) == len(F)


def test_scalarised_selection_never_prefers_a_dominated_point() -> None:
    F = np.random.default_rng(2).random((50, 3))
    ranks = non_dominated_ranks(F)
    order = select_scalarised(F, ranks, np.array([0.5, 0.3, 0.2]), len(F)).tolist()
    pos = {i: p for p, i in enumerate(order)}
    for i, j in itertools.product(range(len(F)), repeat=2):
        if brute_dominates(F[i], F[j]):
            assert pos[i] < pos[j]
    # within the first front, the weighted sum decides
    front = [i for i in order if ranks[i] == 0]
    lo, hi = F.min(axis=0), F.max(axis=0)
    s = ((F - lo) / (hi - lo)) @ np.array([0.5, 0.3, 0.2])
    assert [s[i] for i in front] == sorted(s[i] for i in front)


def test_nan_counts_as_worst_and_shapes_are_checked() -> None:
    F = np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 0.0]])
    assert non_dominated_ranks(F).tolist() == [0, 0, 0]
    F2 = np.array([[0.0, np.nan], [0.0, 1.0]])
    assert non_dominated_ranks(F2).tolist() == [1, 0]
    assert non_dominated_ranks(np.empty((0, 3))).tolist() == []
    with pytest.raises(ValueError, match="shape"):
        non_dominated_ranks(np.zeros(4))
