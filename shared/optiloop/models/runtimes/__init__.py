"""In-process predictors, one per portable runtime, behind one small interface.

`load(artifact)` gives a `Predictor` whose `predict(x)` maps encoded features (rows x inputs, see
`optiloop.models.signature`) to outputs after the link: the positive class's probability (binary),
one probability per class (multiclass) or the value (regression). `predictions()` turns those into
the seed's answer shape. Runtimes import lazily: the trees runtime needs numpy only; `onnx` imports
onnxruntime on first use, so a deployment that serves trees never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.artifact import Artifact
from optiloop.models.signature import Signature


class Predictor(Protocol):
    n_outputs: int

    def predict(self, x: np.ndarray) -> np.ndarray: ...


def _trees(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.trees import load_trees

    return load_trees(artifact.model_bytes)


def _onnx(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.onnx import load_onnx  # type: ignore[import-not-found,unused-ignore]

    return load_onnx(artifact)  # type: ignore[no-any-return,unused-ignore]


def _linear(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.linear import load_linear

    return load_linear(artifact.model_bytes)


def _mlp(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.mlp import load_mlp

    return load_mlp(artifact.model_bytes)


def _ensemble(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.ensemble import load_ensemble

    return load_ensemble(artifact)


def _forecast(artifact: Artifact) -> Predictor:
    from optiloop.models.runtimes.forecast import load_forecast

    return load_forecast(artifact.model_bytes)


LOADERS: dict[str, Callable[[Artifact], Predictor]] = {
    "trees": _trees,
    "onnx": _onnx,
    "linear": _linear,
    "mlp": _mlp,
    "ensemble": _ensemble,
    "forecast": _forecast,
}


def load(artifact: Artifact) -> Predictor:
    """A predictor for an in-process runtime, checked against the artifact's signature."""
    loader = LOADERS.get(artifact.runtime)
    if loader is None:
        raise InvalidInput(
            FieldProblem(
                "artifact.runtime",
                f"{artifact.runtime!r} models are served by an endpoint, not in process",
            )
        )
    predictor = loader(artifact)
    sig = artifact.signature
    if predictor.n_outputs != sig.n_outputs:
        raise InvalidInput(
            FieldProblem(
                "artifact.signature",
                f"the model has {predictor.n_outputs} outputs; a {sig.task} signature with "
                f"{len(sig.classes)} classes needs {sig.n_outputs}",
            )
        )
    n_features = getattr(predictor, "n_features", None)
    if n_features is not None and n_features != len(sig.inputs):
        raise InvalidInput(
            FieldProblem(
                "artifact.signature.inputs",
                f"the model reads {n_features} features; the signature lists {len(sig.inputs)} inputs",
            )
        )
    return predictor


def intervals(predictor: Any, x: np.ndarray) -> list[dict[str, list[float]]] | None:
    """Prediction intervals per instance where the runtime has them (a forecast table), else None."""
    method = getattr(predictor, "intervals", None)
    return None if method is None else list(method(x))


def predictions(
    sig: Signature,
    outputs: np.ndarray,
    instances: Sequence[Mapping[str, Any]] | None = None,
    bounds: Sequence[dict[str, list[float]]] | None = None,
) -> list[dict[str, Any]]:
    """Outputs -> the seed's prediction objects, with the signature's id fields echoed first;
    `bounds` (from `intervals`) adds each regression value's `interval` {level: [lower, upper]}."""
    out: list[dict[str, Any]] = []
    for r in range(outputs.shape[0]):
        p: dict[str, Any] = {}
        if instances is not None:
            for f in sig.id_fields:
                if f in instances[r]:
                    p[f] = instances[r][f]
        row = outputs[r]
        if sig.task == "binary":
            score = float(row[0])
            p["label"] = sig.classes[1] if score >= 0.5 else sig.classes[0]
            p["score"] = round(score, 6)
        elif sig.task == "multiclass":
            k = int(np.argmax(row))
            p["label"] = sig.classes[k]
            p["score"] = round(float(row[k]), 6)
            p["probabilities"] = {str(c): round(float(v), 6) for c, v in zip(sig.classes, row, strict=True)}
        else:
            p["value"] = float(row[0])
            if bounds is not None and bounds[r]:
                p["interval"] = bounds[r]
        out.append(p)
    return out
