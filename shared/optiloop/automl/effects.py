"""Partial dependence (PDP) and individual conditional expectation (ICE) curves of the served model.

For a feature j and a grid of its values v: ICE is, for each sampled row, the model's output with
x_j set to v (everything else as the row has it); PDP is their mean over the rows (Friedman 2001;
Goldstein et al. 2015). Through the served artifact, like the rest of the report. The grid is the
feature's distinct values when there are few (a category's codes, a flag), else GRID quantiles of
its observed (non-missing) values, so the curve spends its points where the data are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

GRID = 12
ICE_ROWS = 20
MAX_ROWS = 500


def grid_of(column: np.ndarray, size: int = GRID) -> np.ndarray:
    seen = column[np.isfinite(column)]
    if seen.size == 0:
        return np.zeros(0)
    distinct = np.unique(seen)
    if distinct.size <= size:
        return distinct
    return np.unique(np.quantile(seen, np.linspace(0.0, 1.0, size)))


def curves(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    j: int,
    name: str,
    *,
    seed: int = 0,
    ice_rows: int = ICE_ROWS,
) -> dict[str, Any]:
    """`{"feature", "grid", "pdp": [[per output] per grid value], "ice": [[per grid value] per row,
    of output 0]}` on at most MAX_ROWS rows (the PDP's) and `ice_rows` of them (the ICE lines)."""
    rng = np.random.default_rng(seed)
    if x.shape[0] > MAX_ROWS:
        x = x[np.sort(rng.choice(x.shape[0], MAX_ROWS, replace=False))]
    grid = grid_of(x[:, j])
    pdp: list[list[float]] = []
    ice = np.zeros((min(ice_rows, x.shape[0]), grid.size))
    for g, v in enumerate(grid):
        xv = x.copy()
        xv[:, j] = v
        out = np.asarray(predict(xv), dtype=np.float64).reshape(x.shape[0], -1)
        pdp.append([round(float(c), 6) for c in out.mean(axis=0)])
        ice[:, g] = out[: ice.shape[0], 0]
    return {
        "feature": name,
        "grid": [round(float(v), 6) for v in grid],
        "pdp": pdp,
        "ice": [[round(float(v), 6) for v in row] for row in ice],
    }
