"""One drift measurement: a reference, the current window's values, and the monitor's metric.

Kept apart from the statistics (pure functions of counts) and from the monitors (records, windows,
alerts) so each can be tested on its own: this is where "which KS" and "what about missing values"
are decided.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.models.monitoring import stats
from optiloop.models.monitoring.baseline import Reference, current_counts

DRIFT_METRICS: tuple[str, ...] = ("ks", "psi", "js", "kl")


def measure(metric: str, ref: Reference, values: np.ndarray) -> dict[str, Any]:
    """The statistic of `values` against `ref`, with what it was computed on.

    Numeric missing values (NaN) are left out of the distribution and reported as
    `missing_fraction`; for a category NaN is the unseen bucket, which is part of it. KS on a category
    is the total variation distance (KS has no meaning without an order); it has no p-value."""
    v = np.asarray(values, dtype=np.float64).ravel()
    cur = current_counts(ref, v)
    out: dict[str, Any] = {"metric": metric, "n_reference": ref.n, "n_current": int(cur.sum())}
    if ref.kind == "numeric":
        out["missing_fraction"] = round(float(np.mean(~np.isfinite(v))), 6) if v.size else 0.0
    else:
        out["unseen_fraction"] = round(float(cur[-1] / cur.sum()), 6) if cur.sum() > 0 else 0.0
    if metric == "ks":
        if ref.kind == "category":
            out["value"] = stats.total_variation(ref.counts, cur)
        elif ref.sample is not None:
            out["value"], out["p_value"] = stats.ks_2samp(ref.sample, v)
        else:
            out["value"], out["p_value"] = stats.ks_binned(ref.counts, cur)
    elif metric == "psi":
        out["value"] = stats.psi(ref.counts, cur)
    elif metric == "js":
        out["value"] = stats.js(ref.counts, cur)
    elif metric == "kl":
        out["value"] = stats.kl(ref.counts, cur)
    else:  # pragma: no cover - monitors are validated at creation
        raise ValueError(f"unknown drift metric {metric!r}")
    out["value"] = round(float(out["value"]), 6)
    if "p_value" in out:
        out["p_value"] = round(float(out["p_value"]), 6)
    return out
