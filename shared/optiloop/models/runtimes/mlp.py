"""`optiloop.mlp/1`: a small feed-forward network and its preprocessing as arrays, run by numpy alone.

Why: a network trained with torch (training_jobs/torch_mlp, AutoML's MLP) is served where torch and
onnxruntime cannot go. The python3.11 Lambda runtime (Amazon Linux 2, glibc 2.26) cannot load the
onnxruntime wheels that work with numpy 2, and torch never belongs on the predict path; a dense
network of a few layers is a handful of matrix products, which numpy does in microseconds. Training
scripts write this document beside (or instead of) their ONNX export, and the predict Lambda serves it
like `optiloop.trees/1` and `optiloop.linear/1`:

    {"format": "optiloop.mlp/1",
     "n_features": 3, "n_outputs": 1,
     "link": "logistic",                        # identity | logistic | softmax, applied to the last layer
     "features": [...],                         # optiloop.linear/1's preprocessing (impute, scale, one-hot)
     "layers": [{"weight": [[...in...], ...],   # out x in, torch.nn.Linear's layout
                 "bias": [...out...],
                 "activation": "relu"},         # relu | tanh | sigmoid | gelu | identity (after the layer)
                ...]}

Float64 throughout, so the margins match torch's float32 forward pass to ~1e-6.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.models.runtimes.linear import read_head
from optiloop.models.runtimes.links import apply_link, bad_model, model_document

FORMAT = "optiloop.mlp/1"
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "identity")
MAX_PARAMETERS = 20_000_000  # 160 MB of float64: beyond this a network belongs on an endpoint
MAX_LAYERS = 64


def _activate(z: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "gelu":  # torch.nn.GELU's default (erf) form
        return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))
    return z


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26, vectorised: |error| < 1.5e-7, below float32's resolution."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


class MLPPredictor:
    """Fitted from an `optiloop.mlp/1` document; `predict(x)` -> (rows, n_outputs) after the link."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.n_outputs, self.link, self.prep = read_head(doc, FORMAT, "mlp")
        self.n_features = self.prep.n_features
        try:
            raw_layers = list(doc["layers"])
        except (KeyError, TypeError, ValueError) as e:
            raise bad_model(f"is not a complete mlp document ({e})") from e
        if not 1 <= len(raw_layers) <= MAX_LAYERS:
            raise bad_model(f"layers must hold 1 to {MAX_LAYERS} layers")
        self.layers: list[tuple[np.ndarray, np.ndarray, str]] = []
        width, total = self.prep.width, 0
        for i, layer in enumerate(raw_layers):
            at = f"layers[{i}]"
            if not isinstance(layer, dict):
                raise bad_model(f"{at} must be an object")
            activation = layer.get("activation", "identity")
            if activation not in ACTIVATIONS:
                raise bad_model(f"{at}.activation must be one of {', '.join(ACTIVATIONS)}")
            try:
                w = np.asarray(layer["weight"], dtype=np.float64)
                b = np.asarray(layer["bias"], dtype=np.float64).reshape(-1)
            except (KeyError, TypeError, ValueError) as e:
                raise bad_model(f"{at} needs numeric weight and bias arrays ({e})") from e
            if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],):
                raise bad_model(
                    f"{at}: weight must be out x {width} and bias out long, got {w.shape}, {b.shape}"
                )
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise bad_model(f"{at}: weight and bias must be finite")
            total += w.size + b.size
            if total > MAX_PARAMETERS:
                raise bad_model(f"more than {MAX_PARAMETERS} parameters: serve it from an endpoint")
            self.layers.append((w, b, str(activation)))
            width = w.shape[0]
        if width != self.n_outputs:
            raise bad_model(f"the last layer has {width} outputs; n_outputs is {self.n_outputs}")

    def margin(self, x: np.ndarray) -> np.ndarray:
        h = self.prep.transform(x)
        for w, b, activation in self.layers:
            h = _activate(h @ w.T + b, activation)
        return h

    def predict(self, x: np.ndarray) -> np.ndarray:
        return apply_link(self.margin(x), self.link)


def mlp_document(
    features: list[dict[str, Any]], layers: list[dict[str, Any]], *, n_outputs: int, link: str
) -> dict[str, Any]:
    """The document a training script writes (checked by loading it, so a bad export fails there)."""
    doc = {
        "format": FORMAT,
        "n_features": len(features),
        "n_outputs": n_outputs,
        "link": link,
        "features": features,
        "layers": [
            {
                "weight": np.asarray(layer["weight"], dtype=np.float64).tolist(),
                "bias": np.asarray(layer["bias"], dtype=np.float64).reshape(-1).tolist(),
                "activation": layer.get("activation", "identity"),
            }
            for layer in layers
        ],
    }
    MLPPredictor(doc)
    return doc


def load_mlp(data: bytes) -> MLPPredictor:
    return MLPPredictor(model_document(data))
