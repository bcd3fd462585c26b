"""`optiloop.ensemble/1`: a weighted average of member models, each served by its own runtime.

Why a runtime and not a framework: AutoML's ensemble (greedy selection over the trials' out-of-fold
predictions) mixes linear models, trees and a network. Each member is already a portable model
file evaluated in process; the ensemble only averages their outputs, so it serves where they do —
numpy (and onnxruntime for ONNX members), never scikit-learn, XGBoost or torch. AutoML's MLP is
a `mlp` member (numpy), so its ensembles serve in the predict Lambda too.

    {"format": "optiloop.ensemble/1",
     "n_outputs": 1,
     "members": [{"runtime": "linear", "model_file": "members/0.linear.json", "weight": 0.6},
                 {"runtime": "trees",  "model_file": "members/1.trees.json",  "weight": 0.4}]}

Weights are positive and sum to 1. Members average *after* their links: probabilities for
classification (a convex mix of probabilities is a probability), values for regression. A member
may not itself be an ensemble (one level, bounded work per request), and at most MAX_MEMBERS.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.artifact import Artifact
from optiloop.models.runtimes.links import model_document

FORMAT = "optiloop.ensemble/1"
MAX_MEMBERS = 50
MEMBER_RUNTIMES = ("trees", "linear", "mlp", "onnx")
WEIGHT_SUM_TOLERANCE = 1e-6


def _bad(reason: str, field: str = "artifact.model_file") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


class EnsemblePredictor:
    """Loaded members and their weights; `predict(x)` is the weighted sum of their outputs."""

    def __init__(self, members: list[tuple[Any, float]], n_outputs: int, n_features: int | None) -> None:
        self.members = members
        self.n_outputs = n_outputs
        self.n_features = n_features

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], self.n_outputs), dtype=np.float64)
        for predictor, weight in self.members:
            out += weight * np.asarray(predictor.predict(x), dtype=np.float64)
        return out


def _member_specs(doc: dict[str, Any], files: dict[str, bytes]) -> list[tuple[str, str, float]]:
    if doc.get("format") != FORMAT:
        raise _bad(f"format must be {FORMAT!r}")
    members = doc.get("members")
    if not isinstance(members, list) or not members:
        raise _bad("members must be a non-empty list")
    if len(members) > MAX_MEMBERS:
        raise _bad(f"holds {len(members)} members; at most {MAX_MEMBERS}")
    specs: list[tuple[str, str, float]] = []
    for k, m in enumerate(members):
        if not isinstance(m, dict):
            raise _bad(f"members[{k}] must be an object")
        runtime, model_file, weight = m.get("runtime"), m.get("model_file"), m.get("weight")
        if runtime not in MEMBER_RUNTIMES:
            raise _bad(f"members[{k}].runtime must be one of {', '.join(MEMBER_RUNTIMES)}")
        if not isinstance(model_file, str) or model_file not in files:
            raise _bad(f"members[{k}].model_file must name a file in the archive, got {model_file!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise _bad(f"members[{k}].weight must be a finite number")
        if weight <= 0:
            raise _bad(f"members[{k}].weight must be positive")
        specs.append((str(runtime), model_file, float(weight)))
    total = sum(w for _, _, w in specs)
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise _bad(f"member weights sum to {total:.9g}, not 1")
    return specs


def load_ensemble(artifact: Artifact) -> EnsemblePredictor:
    """Each member loads through its own runtime with the ensemble's signature (so its output count
    and feature count are checked as a standalone model's would be)."""
    from optiloop.models import runtimes

    doc = model_document(artifact.model_bytes)
    specs = _member_specs(doc, artifact.files)
    loaded: list[tuple[Any, float]] = []
    n_features: int | None = None
    for k, (runtime, model_file, weight) in enumerate(specs):
        manifest = {**artifact.manifest, "runtime": runtime, "model_file": model_file}
        member = replace(artifact, manifest=manifest)
        try:
            predictor = runtimes.load(member)
        except InvalidInput as e:
            reasons = "; ".join(f"{p.field}: {p.reason}" for p in e.problems)
            raise _bad(f"members[{k}] does not load ({reasons})") from e
        got = getattr(predictor, "n_features", None)
        if got is not None:
            if n_features is not None and got != n_features:
                raise _bad(f"members[{k}] reads {got} features, members[0] {n_features}")
            n_features = got
        loaded.append((predictor, weight))
    return EnsemblePredictor(loaded, artifact.signature.n_outputs, n_features)
