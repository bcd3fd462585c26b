"""optiloop.mlp/1: numpy evaluates a torch network exactly, and hostile documents are 422s."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, read_artifact
from optiloop.models.runtimes.linear import LinearPrep
from optiloop.models.runtimes.mlp import MLPPredictor, load_mlp, mlp_document

FEATURES = [
    {"kind": "numeric", "impute": 0.5, "center": 1.0, "scale": 2.0},
    {"kind": "onehot", "n": 3},
    {"kind": "numeric", "impute": 0.0, "center": 0.0, "scale": 1.0},
]  # expands to 5 columns


def _layers(rng: np.random.Generator, sizes: list[int], acts: list[str]) -> list[dict]:
    return [
        {"weight": rng.normal(size=(o, i)), "bias": rng.normal(size=o), "activation": a}
        for i, o, a in zip(sizes[:-1], sizes[1:], acts, strict=True)
    ]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu"])
def test_numpy_forward_matches_torch(activation: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layers = _layers(rng, [5, 16, 8, 3], [activation, activation, "identity"])
    doc = mlp_document(FEATURES, layers, n_outputs=3, link="softmax")
    x = np.column_stack([rng.normal(size=64), rng.integers(0, 3, 64), rng.normal(size=64)]).astype(float)
    x[::7, 0] = np.nan  # missing numerics are imputed exactly as training did
    expanded = LinearPrep(FEATURES).transform(x)
    act = {
        "relu": torch.nn.ReLU(),
        "tanh": torch.nn.Tanh(),
        "sigmoid": torch.nn.Sigmoid(),
        "gelu": torch.nn.GELU(),
    }[activation]
    lin = torch.nn.Linear
    net = torch.nn.Sequential(lin(5, 16), act, lin(16, 8), act, lin(8, 3), torch.nn.Softmax(dim=1)).double()
    with torch.no_grad():
        for linear, layer in zip([net[0], net[2], net[4]], layers, strict=True):
            linear.weight.copy_(torch.from_numpy(layer["weight"]))
            linear.bias.copy_(torch.from_numpy(layer["bias"]))
        want = net(torch.from_numpy(expanded)).numpy()
    got = load_mlp(json.dumps(doc).encode()).predict(x)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.allclose(got.sum(axis=1), 1.0)


def test_serves_through_an_artifact_and_the_signature() -> None:
    rng = np.random.default_rng(1)
    doc = mlp_document(
        [{"kind": "numeric", "impute": 0, "center": 0, "scale": 1}] * 2,
        _layers(rng, [2, 4, 1], ["relu", "identity"]),
        n_outputs=1,
        link="logistic",
    )
    manifest = {
        "format": FORMAT,
        "framework": "pytorch",
        "runtime": "mlp",
        "model_file": "model.mlp.json",
        "signature": {
            "task": "binary",
            "classes": [0, 1],
            "inputs": [{"name": "a", "type": "number"}, {"name": "b", "type": "number"}],
        },
    }
    files = {MANIFEST: json.dumps(manifest).encode(), "model.mlp.json": json.dumps(doc).encode()}
    art = read_artifact(pack_files(files))
    x = art.signature.encode([{"a": 1.0, "b": -2.0}])
    out = runtimes.predictions(art.signature, runtimes.load(art).predict(x), [{}])
    assert out[0]["label"] in (0, 1) and 0.0 <= out[0]["score"] <= 1.0


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"format": "optiloop.trees/1"}, "format"),
        ({"link": "probit"}, "link"),
        ({"layers": []}, "layers"),
        ({"layers": [{"weight": [[1.0] * 5], "bias": [0.0], "activation": "swish"}]}, "activation"),
        ({"layers": [{"weight": [[1.0] * 4], "bias": [0.0]}]}, "weight must be out x 5"),
        ({"layers": [{"weight": [[float("nan")] * 5], "bias": [0.0]}]}, "finite"),
        ({"layers": [{"weight": [[1.0] * 5, [1.0] * 5], "bias": [0.0, 0.0]}]}, "n_outputs is 1"),
        ({"n_features": 7}, "n_features is 7"),
    ],
)
def test_hostile_documents_are_refused_naming_the_model_file(patch: dict, reason: str) -> None:
    doc = {
        "format": "optiloop.mlp/1",
        "n_features": 3,
        "n_outputs": 1,
        "link": "identity",
        "features": FEATURES,
        "layers": [{"weight": [[0.1] * 5], "bias": [0.0], "activation": "identity"}],
    }
    MLPPredictor(doc)  # the unpatched document is fine
    doc.update(patch)
    with pytest.raises(InvalidInput) as e:
        MLPPredictor(doc)
    problem = e.value.problems[0]
    assert problem.field == "artifact.model_file" and reason in problem.reason
