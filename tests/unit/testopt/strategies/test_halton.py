import numpy as np

from optiloop.testopt.sampling.halton import scrambled_halton


def test_points_in_unit_cube_and_reproducible():
    a = scrambled_halton(256, 7, seed=3)
    assert a.shape == (256, 7)
    assert (a >= 0).all() and (a < 1).all()
    np.testing.assert_array_equal(a, scrambled_halton(256, 7, seed=3))
    assert not np.array_equal(a, scrambled_halton(256, 7, seed=4))


def test_continuation_matches_one_long_sequence():
    whole = scrambled_halton(100, 3, seed=1)
    parts = np.vstack([scrambled_halton(40, 3, seed=1), scrambled_halton(60, 3, seed=1, start=40)])
    np.testing.assert_allclose(whole, parts)


def test_more_uniform_than_random():
    # discrepancy proxy: max deviation of 1-D bin counts from uniform, over all dims
    n, d, k = 512, 5, 16
    q = scrambled_halton(n, d, seed=0)
    r = np.random.default_rng(0).random((n, d))

    def dev(x):
        return max(np.abs(np.histogram(x[:, j], bins=k, range=(0, 1))[0] - n / k).max() for j in range(d))

    assert dev(q) < dev(r)


def test_bases_stay_distinct_primes_whatever_dimension_came_first() -> None:
    """A process serves spaces of many sizes: asking for 5 bases, then 8, must not repeat 2, 3, 5
    (a repeated base makes two coordinates of every point equal up to scrambling)."""
    from optiloop.testopt.sampling import halton

    halton._PRIMES.clear()
    assert halton._primes(5) == [2, 3, 5, 7, 11]
    assert halton._primes(8) == [2, 3, 5, 7, 11, 13, 17, 19]
    assert halton._primes(3) == [2, 3, 5]
