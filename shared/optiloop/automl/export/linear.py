"""LogisticRegression / Ridge behind a LinearPrep -> `optiloop.linear/1`.

The preprocessing object is the runtime's own (`optiloop.models.runtimes.linear.LinearPrep`), fitted
on the training rows and used to transform them before the fit, so the served model computes
exactly what was trained: no second implementation of scaling or one-hot to drift from the first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.models.runtimes.linear import FORMAT, LinearPrep


class LinearModel:
    """An estimator (fit/predict_outputs) that owns its preprocessing; `est` is scikit-learn's."""

    def __init__(self, est: Any, kinds: list[tuple[str, int]], task: str) -> None:
        self.est = est
        self.kinds = kinds
        self.task = task
        self.prep_: LinearPrep | None = None

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> LinearModel:
        self.prep_ = LinearPrep.fit(x, self.kinds)
        self.est.fit(self.prep_.transform(x), y, sample_weight=sample_weight)
        return self

    def predict_outputs(self, x: np.ndarray) -> np.ndarray:
        assert self.prep_ is not None
        z = self.prep_.transform(x)
        if self.task == "regression":
            return np.asarray(self.est.predict(z), dtype=np.float64).reshape(-1, 1)
        p = np.asarray(self.est.predict_proba(z), dtype=np.float64)
        return p[:, 1:2] if self.task == "binary" else p


def export_linear(model: LinearModel) -> dict[str, Any]:
    assert model.prep_ is not None
    coef = np.atleast_2d(np.asarray(model.est.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(model.est.intercept_, dtype=np.float64))
    link = {"binary": "logistic", "multiclass": "softmax", "regression": "identity"}[model.task]
    return {
        "format": FORMAT,
        "n_features": model.prep_.n_features,
        "n_outputs": int(coef.shape[0]),
        "link": link,
        "features": model.prep_.features,
        "coef": coef.tolist(),
        "intercept": intercept.tolist(),
    }
