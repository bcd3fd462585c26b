"""What the portable runtimes share: the output links and reading a model document.

A model file is JSON whatever the runtime (`optiloop.trees/1`, `optiloop.linear/1`), and a model's
margins become outputs through the same links, so both live here once.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput

LINKS = ("identity", "logistic", "softmax")


def bad_model(reason: str, field: str = "artifact.model_file") -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


def apply_link(z: np.ndarray, link: str) -> np.ndarray:
    """Margins -> outputs: the positive class's probability, per-class probabilities, or values."""
    if link == "logistic":
        # the tanh form of the sigmoid: exp(-z) overflows (a warning per call) for margins below -709
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if link == "softmax":
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    return z


def model_document(data: bytes) -> dict[str, Any]:
    """A model file's JSON object, or the 422 naming `artifact.model_file`."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise bad_model(f"is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise bad_model("must be a JSON object")
    return doc
