import numpy as np

from optiloop.testopt.diversity.distance import min_dist_to, sq_dists
from optiloop.testopt.diversity.dpp import select_dpp
from optiloop.testopt.diversity.k_center import select_k_center


def test_sq_dists_matches_brute_force():
    rng = np.random.default_rng(0)
    A, B = rng.random((7, 4)), rng.random((5, 4))
    brute = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(sq_dists(A, B), brute, atol=1e-12)
    np.testing.assert_allclose(min_dist_to(A, B), np.sqrt(brute.min(1)), atol=1e-7)


def test_k_center_respects_min_distance_when_possible():
    rng = np.random.default_rng(1)
    E = rng.random((300, 2))
    scores = rng.random(300)
    pick = select_k_center(E, scores, 10, np.full(300, np.inf), min_distance=0.2)
    assert len(pick) == len(set(pick)) == 10
    P = E[pick]
    d = np.sqrt(sq_dists(P, P))[np.triu_indices(10, 1)]
    assert d.min() >= 0.2 - 1e-9


def test_k_center_relaxes_rather_than_coming_up_short():
    E = np.zeros((5, 2)) + np.arange(5)[:, None] * 1e-3
    assert len(select_k_center(E, np.ones(5), 5, np.full(5, np.inf), min_distance=0.9)) == 5


def test_k_center_avoids_existing_points():
    E = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0]])
    pick = select_k_center(
        E, np.array([1.0, 1.0, 0.0]), 1, min_dist_to(E, np.array([[0.0, 0.0]])), min_distance=0.5
    )
    assert pick == [2]


def test_dpp_prefers_spread_over_duplicates():
    E = np.array([[0.0, 0.0], [0.0, 0.001], [1.0, 1.0], [0.5, 0.9]])
    pick = select_dpp(E, np.array([1.0, 1.0, 0.9, 0.8]), 2, np.full(4, np.inf))
    assert len(pick) == 2
    assert not {0, 1} <= set(pick)


def test_dpp_fills_batch_when_kernel_exhausted():
    E = np.zeros((6, 3))
    assert sorted(select_dpp(E, np.arange(6.0), 4, np.full(6, np.inf))) == sorted(
        set(select_dpp(E, np.arange(6.0), 4, np.full(6, np.inf)))
    )
    assert len(select_dpp(E, np.arange(6.0), 4, np.full(6, np.inf))) == 4
