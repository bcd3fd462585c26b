import numpy as np

from optiloop.surrogate.rff import RFFSurrogate


def _f(X):
    return np.sin(6 * X[:, 0]) + X[:, 1] ** 2


def test_learns_a_smooth_function_and_is_uncertain_far_from_data():
    rng = np.random.default_rng(0)
    X = rng.random((400, 2)) * 0.5  # data only in one corner
    m = RFFSurrogate(2, lengthscale=0.2, noise=0.05).partial_fit(X, _f(X))
    Xt = rng.random((200, 2)) * 0.5
    mean, std_in = m.predict(Xt)
    assert np.sqrt(np.mean((mean - _f(Xt)) ** 2)) < 0.1
    _, std_out = m.predict(0.9 + 0.1 * rng.random((50, 2)))
    assert std_out.mean() > 3 * std_in.mean()


def test_incremental_equals_batch_fit_and_round_trips():
    rng = np.random.default_rng(1)
    X, y = rng.random((96, 3)), rng.random(96)
    a = RFFSurrogate(3).partial_fit(X, y)
    b = RFFSurrogate(3)
    for i in range(0, 96, 32):
        b.partial_fit(X[i : i + 32], y[i : i + 32])
    np.testing.assert_allclose(a.predict(X)[0], b.predict(X)[0], atol=1e-9)
    c = RFFSurrogate.from_bytes(a.to_bytes())
    np.testing.assert_array_equal(a.predict(X)[0], c.predict(X)[0])
    assert c.n_obs == 96


def test_rejects_wrong_shapes():
    import pytest

    with pytest.raises(ValueError, match="expected X"):
        RFFSurrogate(2).partial_fit(np.zeros((3, 4)), np.zeros(3))
