"""Signatures, feature encoding and the training baseline, as the platform defines them.

Copies of the rules in optiloop.models.signature (Signature.encode) and
optiloop.models.monitoring.baseline (build_baseline), because a SageMaker image has no optiloop:

* a category's code is its index in the input's `categories` (sorted strings); a value training
  never saw, or a missing one, is NaN; a boolean is 0/1; numbers are floats;
* a numeric baseline has quantile edges (np.unique of 11 quantiles: duplicates merged) and counts
  per bin [e_i, e_(i+1)) with open outer bins; a categorical one counts per category name
  (booleans as "false"/"true"); the score is "prediction".

tests/unit/models/training/test_training_scripts.py encodes the same rows with both and compares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

MAX_CATEGORIES = 1000  # a string column with more distinct values is an identifier, not a feature


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def infer_inputs(
    rows: Sequence[Mapping[str, Any]], skip: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[str]]:
    """Signature inputs from the rows' values (first-seen field order) and the fields left out."""
    order: list[str] = []
    values: dict[str, list[Any]] = {}
    missing: dict[str, int] = {}
    for row in rows:
        for k in row:
            if k not in values and k not in skip:
                order.append(k)
                values[k] = []
    for row in rows:
        for k in order:
            v = row.get(k)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                missing[k] = missing.get(k, 0) + 1
            else:
                values[k].append(v)
    inputs, dropped = [], []
    for k in order:
        vs = values[k]
        if not vs:
            dropped.append(k)
            continue
        inp: dict[str, Any] = {"name": k, "required": missing.get(k, 0) == 0}
        if all(isinstance(v, bool) for v in vs):
            inp["type"] = "boolean"
        elif all(_is_number(v) for v in vs):
            inp["type"] = "integer" if all(isinstance(v, int) for v in vs) else "number"
        elif all(isinstance(v, (str, int, float)) for v in vs):
            cats = sorted({str(v) for v in vs})
            if len(cats) > MAX_CATEGORIES:
                dropped.append(k)
                continue
            inp["type"], inp["categories"] = "category", cats
        else:
            dropped.append(k)  # objects and lists are not features
            continue
        inputs.append(inp)
    return inputs, dropped


def encode(inputs: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Rows -> float64 features exactly as Signature.encode (without its validation: these rows
    are the ones the signature was inferred from)."""
    x = np.full((len(rows), len(inputs)), np.nan, dtype=np.float64)
    index = [{c: k for k, c in enumerate(i.get("categories", []))} for i in inputs]
    for r, row in enumerate(rows):
        for c, inp in enumerate(inputs):
            v = row.get(inp["name"])
            if v is None:
                continue
            t = inp["type"]
            if t == "category":
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    continue
                code = index[c].get(str(v))
                x[r, c] = math.nan if code is None else float(code)
            elif t == "boolean":
                if isinstance(v, bool):
                    x[r, c] = 1.0 if v else 0.0
            elif _is_number(v) and math.isfinite(float(v)):
                x[r, c] = float(v)
    return x


def infer_task(labels: Sequence[Any], requested: str = "auto") -> tuple[str, list[Any]]:
    """(task, classes): booleans and two labels are binary, 3+ string labels multiclass, numbers
    other than {0, 1} regression. Classes are sorted, so a binary model's positive class is the
    larger label (True, 1, or the later string)."""
    distinct = set(labels)
    if requested == "regression" or (
        requested == "auto" and all(_is_number(v) for v in labels) and not distinct <= {0, 1}
    ):
        return "regression", []
    if all(isinstance(v, bool) for v in labels):
        classes: list[Any] = [False, True]
    elif all(_is_number(v) for v in labels):
        classes = sorted(distinct)
    else:
        classes = sorted({str(v) for v in labels})
    if requested == "auto":
        return ("binary" if len(classes) <= 2 else "multiclass"), classes
    return requested, classes


def label_codes(labels: Sequence[Any], classes: Sequence[Any]) -> np.ndarray:
    if classes and isinstance(classes[0], str):
        index = {c: k for k, c in enumerate(classes)}
        return np.array([index[str(v)] for v in labels], dtype=np.float64)
    index = {c: k for k, c in enumerate(classes)}
    return np.array([index[v] for v in labels], dtype=np.float64)


def _edges(values: np.ndarray, bins: int) -> list[float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return [0.0, 1.0]
    e = np.unique(np.quantile(v, np.linspace(0.0, 1.0, max(1, bins) + 1)))
    if e.size == 1:
        e = np.array([e[0], e[0] + 1.0])
    return [float(x) for x in e]


def _counts(values: np.ndarray, edges: Sequence[float]) -> list[int]:
    v = values[np.isfinite(values)]
    k = len(edges) - 1
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64)[1:-1], v, side="right")
    return [int(n) for n in np.bincount(idx, minlength=k)[:k]]


def _category_counts(codes: np.ndarray, names: Sequence[str]) -> dict[str, int]:
    ok = np.isfinite(codes) & (codes >= 0) & (codes < len(names))
    counts = np.bincount(codes[ok].astype(np.int64), minlength=len(names))
    return {str(n): int(c) for n, c in zip(names, counts[: len(names)], strict=True)}


def baseline(
    inputs: Sequence[Mapping[str, Any]], x: np.ndarray, scores: np.ndarray, task: str, classes: Sequence[Any],
    bins: int = 10,
) -> dict[str, Any]:  # fmt: skip
    """The baseline.json document (optiloop.models.monitoring, package docstring)."""
    doc: dict[str, Any] = {}
    for c, inp in enumerate(inputs):
        col = x[:, c]
        if inp["type"] in ("category", "boolean"):
            names = inp["categories"] if inp["type"] == "category" else ["false", "true"]
            doc[inp["name"]] = {"type": "category", "counts": _category_counts(col, names)}
        else:
            edges = _edges(col, bins)
            doc[inp["name"]] = {"type": "numeric", "edges": edges, "counts": _counts(col, edges)}
    if task == "multiclass":
        pred = np.argmax(scores, axis=1).astype(np.float64)
        doc["prediction"] = {"type": "category", "counts": _category_counts(pred, [str(c) for c in classes])}
    else:
        s = scores.reshape(len(scores), -1)[:, 0]
        edges = _edges(s, bins)
        doc["prediction"] = {"type": "numeric", "edges": edges, "counts": _counts(s, edges)}
    return {"inputs": doc, "prediction": doc.pop("prediction")}
