import numpy as np

from optiloop.testopt.surrogate.rff import RFFSurrogate


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


class MeanSurrogate:
    """A different model behind the same port: the running mean, with a fixed spread."""

    def __init__(self, dim: int) -> None:
        self.total, self.n = 0.0, 0

    def partial_fit(self, X, y):
        self.total += float(np.sum(y))
        self.n += len(y)
        return self

    def predict(self, X):
        m = self.total / self.n if self.n else 0.0
        return np.full(len(X), m), np.ones(len(X))

    @property
    def n_obs(self):
        return self.n

    def copy(self):
        c = MeanSurrogate(0)
        c.total, c.n = self.total, self.n
        return c

    def to_bytes(self):
        return b""


def test_predict_shared_asks_other_models_through_the_port():
    from optiloop.testopt.surrogate.port import Surrogate
    from optiloop.testopt.surrogate.rff import predict_shared

    Surrogate.register(MeanSurrogate)
    X = np.random.default_rng(0).random((5, 3))
    mixed = {
        "a": MeanSurrogate(3).partial_fit(X, np.arange(5.0)),
        "b": RFFSurrogate(3).partial_fit(X, np.ones(5)),
    }
    out = predict_shared(mixed, X)
    np.testing.assert_allclose(out["a"][0], 2.0)
    np.testing.assert_allclose(out["b"][0], mixed["b"].predict(X)[0])


def test_project_state_takes_any_surrogate_factory():
    from optiloop.testopt.strategies.state import ProjectState
    from optiloop.testopt.sut.driver import LocalLoop

    loop = LocalLoop({"params": {"x": {"type": "number", "min": 0, "max": 1}}})
    out = loop.suggest(batch_size=40, seed=0)
    loop.ingest(
        [t["id"] for t in out["tests"]],
        [{"status": "pass", "cost_cents": 2, "coverage_delta": {"buckets_hit": [1]}}] * 40,
    )
    from optiloop.testopt.history import history_for
    from optiloop.testopt.spaces import space_for

    space = space_for(loop.deps.store, loop.project_id)
    st = ProjectState(space, make_surrogate=MeanSurrogate)
    st.sync(history_for(loop.deps.store, loop.project_id))
    sur = st.surrogates(history_for(loop.deps.store, loop.project_id))
    assert all(isinstance(m, MeanSurrogate) for m in sur.values())
    assert sur["cost"].n_obs == 40
