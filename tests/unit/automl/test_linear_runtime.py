"""`optiloop.linear/1`: the preprocessing matches its documentation and bad documents are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.models.runtimes.linear import LinearPrep, load_linear

DOC = {
    "format": "optiloop.linear/1",
    "n_features": 2,
    "n_outputs": 1,
    "link": "logistic",
    "features": [{"kind": "numeric", "impute": 1.0, "center": 2.0, "scale": 4.0}, {"kind": "onehot", "n": 3}],
    "coef": [[2.0, 1.0, -1.0, 0.5]],
    "intercept": [0.25],
}


def test_scaling_imputation_and_one_hot() -> None:
    p = load_linear(json.dumps(DOC).encode())
    x = np.array([[6.0, 0.0], [np.nan, 2.0], [2.0, np.nan], [2.0, 7.0]])
    z = np.array([2.0 * 1.0 + 1.0, 2.0 * -0.25 + 0.5, 0.0, 0.0]) + 0.25
    assert np.allclose(p.predict(x)[:, 0], 1 / (1 + np.exp(-z)))


def test_prep_fit_centres_and_scales() -> None:
    x = np.array([[1.0, 0.0], [3.0, 1.0], [np.nan, 1.0]])
    prep = LinearPrep.fit(x, [("numeric", 0), ("onehot", 2)])
    out = prep.transform(x)
    assert out.shape == (3, 3) and np.allclose(out[:, 0], [-1.0, 1.0, 0.0]) and out[2, 2] == 1.0


@pytest.mark.parametrize(
    "change",
    [
        {"link": "probit"},
        {"coef": [[1.0]]},
        {"n_features": 3},
        {"features": [{"kind": "hash"}]},
        {"format": "x"},
    ],
)
def test_malformed_documents_are_refused(change: dict) -> None:
    with pytest.raises(InvalidInput):
        load_linear(json.dumps({**DOC, **change}).encode())
