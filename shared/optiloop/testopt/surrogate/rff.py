"""Bayesian linear regression on random Fourier features: an approximate GP in numpy.

A GP would be the textbook surrogate, but its cost grows cubically with the history and the
suggest path must stay in milliseconds at 5,000+ runs. With m random features the posterior
is an m x m system, updated incrementally as runs arrive (sufficient statistics only), and
prediction is two matrix products. Fitting is deterministic: features come from a fixed seed,
not from the request.
"""

from __future__ import annotations

import io

import numpy as np

from optiloop.testopt.surrogate.port import Surrogate


class RFFSurrogate(Surrogate):
    def __init__(
        self,
        dim_in: int,
        n_features: int = 192,
        lengthscale: float = 0.12,
        noise: float = 0.5,
        prior_var: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.dim_in = dim_in
        self.n_features = n_features
        self.lengthscale = lengthscale
        self.noise = noise
        self.prior_var = prior_var
        rng = np.random.default_rng([seed, dim_in, n_features])
        self.W_ = rng.normal(0.0, 1.0 / lengthscale, (dim_in, n_features))
        self.b_ = rng.uniform(0.0, 2 * np.pi, n_features)
        self.A_ = np.eye(n_features) / prior_var
        self.r_ = np.zeros(n_features)
        self.sum_y_ = 0.0
        self.n_ = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def _phi(self, X: np.ndarray) -> np.ndarray:
        return np.sqrt(2.0 / self.n_features) * np.cos(X @ self.W_ + self.b_)

    def partial_fit(self, X: np.ndarray, y: np.ndarray) -> RFFSurrogate:
        X = np.atleast_2d(np.asarray(X, float))
        y = np.asarray(y, float)
        if X.shape[0] != y.shape[0] or X.shape[1] != self.dim_in:
            raise ValueError(f"expected X (n, {self.dim_in}) and y (n,), got {X.shape} and {y.shape}")
        if not len(y):
            return self
        P = self._phi(X)
        self.A_ += P.T @ P / self.noise**2
        self.r_ += P.T @ y / self.noise**2
        self.sum_y_ += float(y.sum())
        self.n_ += len(y)
        self._cache = None
        return self

    @property
    def n_obs(self) -> int:
        return self.n_

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            Ainv = np.linalg.inv(self.A_)  # SPD with the prior on the diagonal: well conditioned
            self._cache = (Ainv @ self.r_, Ainv)
        return self._cache

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P = self._phi(np.atleast_2d(X))
        w, Ainv = self._posterior()
        mean = P @ w
        var = ((P @ Ainv) * P).sum(axis=1)
        return mean, np.sqrt(np.maximum(var, 0.0))

    def copy(self) -> RFFSurrogate:
        c = RFFSurrogate.__new__(RFFSurrogate)
        c.__dict__ = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        c._cache = None
        return c

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            W=self.W_,
            b=self.b_,
            A=self.A_,
            r=self.r_,
            meta=np.array([self.noise, self.prior_var, self.sum_y_, self.n_, self.lengthscale]),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RFFSurrogate:
        z = np.load(io.BytesIO(data))
        W = z["W"]
        noise, prior_var, sum_y, n, ls = z["meta"]
        m = cls(W.shape[0], W.shape[1], lengthscale=float(ls), noise=float(noise), prior_var=float(prior_var))
        m.W_, m.b_, m.A_, m.r_ = W, z["b"], z["A"], z["r"]
        m.sum_y_, m.n_ = float(sum_y), int(n)
        return m


def predict_shared(models: dict[str, Surrogate], X: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Predict several targets. Models that share random features (same seed) and inputs share the
    costly parts: the features are computed once and the posterior covariance inverted once. Any
    other Surrogate is simply asked through the port."""
    rffs = [m for m in models.values() if isinstance(m, RFFSurrogate)]
    first = rffs[0] if rffs else None
    if (
        first is None
        or len(rffs) != len(models)
        or not all(m.W_ is first.W_ or np.array_equal(m.W_, first.W_) for m in rffs)
    ):
        return {k: m.predict(X) for k, m in models.items()}
    models_rff: dict[str, RFFSurrogate] = models  # type: ignore[assignment]
    P = first._phi(np.atleast_2d(X))
    _, Ainv0 = first._posterior()
    var0 = np.sqrt(np.maximum(((P @ Ainv0) * P).sum(axis=1), 0.0))
    out = {}
    for k, m in models_rff.items():
        if m._cache is None and m is not first and np.array_equal(m.A_, first.A_):
            # same inputs, same features: the posterior covariance is the same matrix, so share it
            m._cache = (Ainv0 @ m.r_, Ainv0)
        w, Ainv = m._posterior()
        out[k] = (P @ w, var0 if Ainv is Ainv0 else np.sqrt(np.maximum(((P @ Ainv) * P).sum(axis=1), 0.0)))
    return out
