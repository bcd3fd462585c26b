"""The ONNX graph written from an `optiloop.mlp/1` document answers what the numpy runtime does:
every activation, every link, numeric and one-hot features interleaved (so the numeric block is
sliced), missing values and unseen category codes included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl.export.mlp_onnx import onnx_from_mlp
from optiloop.models.runtimes.mlp import MLPPredictor, mlp_document

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

FEATURES = [
    {"kind": "numeric", "impute": 0.5, "center": 0.2, "scale": 2.0},
    {"kind": "onehot", "n": 3},
    {"kind": "numeric", "impute": -1.0, "center": 0.0, "scale": 0.5},
    {"kind": "numeric", "impute": 3.0, "center": 1.0, "scale": 4.0},
    {"kind": "onehot", "n": 2},
]  # expanded width 1 + 3 + 1 + 1 + 2 = 8


def _doc(features: list[dict[str, Any]], activations: list[str], n_out: int, link: str) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    width = sum(1 if f["kind"] == "numeric" else int(f["n"]) for f in features)
    layers = []
    for k, act in enumerate(activations):
        out = n_out if k == len(activations) - 1 else 6
        layers.append(
            {"weight": rng.normal(size=(out, width)), "bias": rng.normal(size=out), "activation": act}
        )
        width = out
    return mlp_document(features, layers, n_outputs=n_out, link=link)


def _rows(n_features: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, n_features))
    x[:, 1], x[:, 4] = rng.integers(0, 3, 40), rng.integers(0, 2, 40)
    x[::5, 0] = np.nan  # missing numeric: imputed
    x[::7, 1] = np.nan  # missing category: all zeros
    x[3, 4] = 9.0  # a code training never saw: all zeros
    return x


@pytest.mark.parametrize(
    ("activations", "n_out", "link"),
    [
        (["relu", "relu", "identity"], 1, "logistic"),
        (["tanh", "identity"], 4, "softmax"),
        (["sigmoid", "gelu", "identity"], 1, "identity"),
    ],
)
def test_the_graph_answers_what_numpy_serves(activations: list[str], n_out: int, link: str) -> None:
    doc = _doc(FEATURES, activations, n_out, link)
    x = _rows(len(FEATURES))
    session = ort.InferenceSession(onnx_from_mlp(doc), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.astype(np.float32)})[0]
    want = MLPPredictor(doc).predict(x)
    assert got.shape == want.shape == (40, n_out)
    np.testing.assert_allclose(got, want, atol=1e-5 * max(1.0, float(np.abs(want).max())))


def test_all_numeric_and_all_onehot_inputs() -> None:
    for features in ([FEATURES[0], FEATURES[2]], [FEATURES[1], FEATURES[4]]):
        doc = _doc(features, ["relu", "identity"], 1, "logistic")
        x = np.abs(np.random.default_rng(2).normal(size=(10, 2))).round()
        got = ort.InferenceSession(onnx_from_mlp(doc)).run(None, {"x": x.astype(np.float32)})[0]
        np.testing.assert_allclose(got, MLPPredictor(doc).predict(x), atol=1e-5)
