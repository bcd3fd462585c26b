"""SHAP values of the served model: how much each feature moved each row's prediction.

Why sampling, through the served artifact: the report explains what will be deployed (the numpy
runtime every family exports to, an ensemble included), not a training framework's object, so one
method serves every family — trees, linear, MLP, ensembles — and needs nothing but `predict`.
It is the permutation estimator of Štrumbelj & Kononenko (2014) with interventional (background)
sampling, as KernelSHAP's "interventional" variant: for a row x, a random order of the features and
a background row b, start from b and switch the features to x's values one at a time in that order;
each switch's change of the output is that feature's contribution. Averaged over PERMUTATIONS orders
(each with its own background row) it estimates the Shapley values of f(x) against the background.

Exact additivity per row, by construction (the switches telescope): the row's values sum to f(x)
minus `base` (the mean output over the background rows it was compared with). For a model without
interactions the value is exact: a linear f gives w_j (x_j - b_j) for every order.

Bounded: at most `rows_for` rows are explained, each costing PERMUTATIONS x (features + 1) predicted
rows; the rows shrink with the model's structural per-row cost (optiloop.automl.cost), as
permutation importance's do, so a wide forest ensemble cannot stall a report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PERMUTATIONS = 8
MAX_ROWS = 200
MIN_ROWS = 20
BACKGROUND = 100
ELEMENT_BUDGET = 1_000_000_000  # element-rows one report's SHAP may cost (as permutation importance)


def rows_for(n_features: int, elements_per_row: int | None) -> int:
    if not elements_per_row:
        return MAX_ROWS
    per_row = PERMUTATIONS * (n_features + 1) * elements_per_row
    return max(MIN_ROWS, min(MAX_ROWS, ELEMENT_BUDGET // per_row))


def shap_values(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(values, base): values[i, j, k] is feature j's contribution to output k of row i; base[i, k]
    the mean output over the background rows row i was compared with. values.sum(axis=1) + base
    equals predict(x) (up to float rounding)."""
    rng = np.random.default_rng(seed)
    n, m = x.shape
    values: np.ndarray | None = None
    base: np.ndarray | None = None
    for i in range(n):
        orders = [rng.permutation(m) for _ in range(permutations)]
        backs = background[rng.integers(0, len(background), permutations)]
        hybrid = np.empty((permutations, m + 1, m), dtype=np.float64)
        for p, (order, b) in enumerate(zip(orders, backs, strict=True)):
            z = b.astype(np.float64).copy()
            hybrid[p, 0] = z
            for step, j in enumerate(order, start=1):
                z[j] = x[i, j]
                hybrid[p, step] = z
        out = np.asarray(predict(hybrid.reshape(-1, m)), dtype=np.float64).reshape(permutations, m + 1, -1)
        if values is None:
            values = np.zeros((n, m, out.shape[2]))
            base = np.zeros((n, out.shape[2]))
        assert base is not None
        deltas = np.diff(out, axis=1)  # (permutations, m, k): the change when order[step] switched
        for p, order in enumerate(orders):
            values[i, order] += deltas[p]
        values[i] /= permutations
        base[i] = out[:, 0].mean(axis=0)
    if values is None or base is None:
        return np.zeros((0, m, 1)), np.zeros((0, 1))
    return values, base


def summary(values: np.ndarray, base: np.ndarray, names: list[str]) -> dict[str, Any]:
    """The report's table: each feature's mean |SHAP| (summed over the outputs: a multiclass model's
    class probabilities), largest first, and the mean base value per output."""
    mean_abs = np.abs(values).sum(axis=2).mean(axis=0) if values.size else np.zeros(len(names))
    order = sorted(range(len(names)), key=lambda j: (-float(mean_abs[j]), names[j]))
    return {
        "base_value": [round(float(v), 6) for v in base.mean(axis=0)] if base.size else [],
        "mean_abs": [{"feature": names[j], "value": round(float(mean_abs[j]), 6)} for j in order],
    }
