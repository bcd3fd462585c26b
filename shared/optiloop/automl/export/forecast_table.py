"""A forecaster's forecast from the data's end, with prediction intervals, as an `optiloop.forecast/1`
artifact (optiloop.models.runtimes.forecast).

Intervals come from the candidate's own cross-validation errors, not from a model's distributional
assumptions, so every candidate — ETS, Theta, a combination of them, a global model — gets them
the same way: for a series, the absolute fold errors at step k divided by sqrt(k) are pooled over
the steps and folds (errors of a forecast grow roughly like a random walk's with the step), the
80% and 95% quantiles of those are the widths at step 1, times sqrt(k) at step k. A series with
no usable fold error (all NaN) gets no interval narrower than its point forecast: width 0, and
`interval_note` says so in the params.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.automl.export.artifact import build_artifact
from optiloop.models.runtimes.forecast import FORMAT
from optiloop.models.signature import Input, Signature

LEVELS = (80, 95)


def widths(errors: np.ndarray, h: int) -> dict[int, np.ndarray]:
    """errors: folds x steps (NaN where a step was not validated) -> per level, h half-widths."""
    e = np.asarray(errors, dtype=np.float64)
    root = np.sqrt(np.arange(1, e.shape[1] + 1, dtype=np.float64)) if e.ndim == 2 else np.ones(1)
    pooled = (np.abs(e) / root).ravel()
    pooled = pooled[np.isfinite(pooled)]
    steps = np.sqrt(np.arange(1, h + 1, dtype=np.float64))
    if pooled.size == 0:
        return {v: np.zeros(h) for v in LEVELS}
    return {v: float(np.quantile(pooled, v / 100)) * steps for v in LEVELS}


def table_signature(ids: list[str]) -> Signature:
    """`step` alone for one series; `series_id` (a category of the ids) and `step` for several."""
    step = Input("step", "integer", True)
    if len(ids) == 1:
        return Signature(task="regression", inputs=(step,), id_fields=("step",))
    return Signature(
        task="regression",
        inputs=(Input("series_id", "category", True, tuple(ids)), step),
        id_fields=("series_id", "step"),
    )


def build_table(
    ids: list[str],
    mean: np.ndarray,
    errors: list[np.ndarray],
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    data_fingerprint: str,
    rows: int,
) -> bytes:
    """mean: series x h forecasts from each series' end; errors: per series, its folds x steps
    cross-validation errors (truth - forecast)."""
    h = int(mean.shape[1])
    lower: dict[str, list[list[float]]] = {str(v): [] for v in LEVELS}
    upper: dict[str, list[list[float]]] = {str(v): [] for v in LEVELS}
    for s in range(len(ids)):
        w = widths(errors[s], h)
        for v in LEVELS:
            lower[str(v)].append([float(a) for a in mean[s] - w[v]])
            upper[str(v)].append([float(a) for a in mean[s] + w[v]])
    doc = {
        "format": FORMAT,
        "horizon": h,
        "series": list(ids),
        "levels": list(LEVELS),
        "mean": [[float(a) for a in row] for row in mean],
        "lower": lower,
        "upper": upper,
    }
    if not np.all(np.isfinite(mean)):
        raise ValueError("a forecast is not finite")
    note = "from the candidate's cross-validation errors, pooled over steps, widening with sqrt(step)"
    return build_artifact(
        doc,
        runtime="forecast",
        framework="optiloop",
        signature=table_signature(ids),
        params={**params, "interval_note": note, "interval_levels": list(LEVELS)},
        metrics={k: v for k, v in metrics.items() if isinstance(v, float) and math.isfinite(v)},
        data_fingerprint=data_fingerprint,
        rows=rows,
    )
