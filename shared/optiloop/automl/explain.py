"""Why the winner wins, and whom it treats how: permutation importance, calibration and fairness.

Calibration and fairness are measured on every completed trial's *out-of-fold* predictions (each row
scored by a model that did not see it), so they are held-out numbers, and they go into the trial's
metrics — hence into its artifact's manifest, where the model card reads them by name (`ece`,
`fairness.demographic_parity`, `fairness.equalized_odds`) when the version is registered with the
sensitive column named.

- `ece`: expected calibration error of the top-label probability over 10 equal-width bins.
- fairness, binary tasks, a declared sensitive column: the decision is `p >= 0.5`;
  demographic parity gap = max - min over groups of P(decision = 1); equalised-odds gap = the larger
  of the max - min gaps in true-positive and in false-positive rate. Groups with fewer than
  MIN_GROUP rows (or no positives / negatives, for the rates) are left out of the gaps and counted in
  `groups` so a reader sees what was compared.

Permutation importance is computed once, for the experiment's best trial, through its *served*
artifact (the numpy runtime, so it explains what will be deployed): each feature's column is shuffled
(seeded, REPEATS times) and the objective's loss in score is its importance. It is measured on the
training rows (the refit model saw them), which flatters models that memorise — said in the report.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.automl.search import metrics as mx

BINS = 10
MIN_GROUP = 5
REPEATS = 3
MAX_ROWS = 2000
MIN_ROWS = 100  # a wide table of forests still costs (features x 3 + 1) x 100 rows
# element-rows one permutation importance may cost (optiloop.automl.cost's `elements` of one row,
# times rows, times predicts): ~5 s on a quiet core at the trees runtime's ~5 ns an element-row
ELEMENT_BUDGET = 1_000_000_000


def ece(y: np.ndarray, out: np.ndarray, task: str) -> float:
    """Top-label expected calibration error (classification outputs in the serving convention)."""
    p = np.column_stack([1 - out[:, 0], out[:, 0]]) if task == "binary" else out
    conf = p.max(axis=1)
    hit = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.minimum((conf * BINS).astype(np.int64), BINS - 1)
    total = 0.0
    for b in range(BINS):
        m = bins == b
        if m.any():
            total += m.sum() / y.size * abs(float(hit[m].mean()) - float(conf[m].mean()))
    return float(total)


def fairness(y: np.ndarray, out: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Binary task: the gaps across the sensitive column's groups, and per-group rates."""
    decision = out[:, 0] >= 0.5
    per: dict[str, dict[str, float | int | None]] = {}
    for g in sorted(set(groups.tolist()), key=str):
        m = groups == g
        pos, neg = m & (y == 1), m & (y == 0)
        per[str(g)] = {
            "rows": int(m.sum()),
            "positive_rate": float(decision[m].mean()),
            "tpr": float(decision[pos].mean()) if pos.sum() >= MIN_GROUP else None,
            "fpr": float(decision[neg].mean()) if neg.sum() >= MIN_GROUP else None,
        }

    def gap(key: str) -> float:
        vals: list[float] = []
        for v in per.values():
            val = v[key]
            if val is not None and int(v["rows"] or 0) >= MIN_GROUP:
                vals.append(float(val))
        return max(vals) - min(vals) if len(vals) >= 2 else math.nan

    eo = [v for v in (gap("tpr"), gap("fpr")) if not math.isnan(v)]
    return {
        "demographic_parity": gap("positive_rate"),
        "equalized_odds": max(eo) if eo else math.nan,
        "groups": per,
    }


def held_out_metrics(
    y: np.ndarray, out: np.ndarray, task: str, groups: np.ndarray | None
) -> dict[str, float]:
    """What a trial's out-of-fold outputs add to its metrics (NaN where not measurable)."""
    if task == "regression":
        return {}
    extra = {"ece": ece(y, out, task)}
    if groups is not None and task == "binary":
        f = fairness(y, out, groups)
        extra["fairness.demographic_parity"] = f["demographic_parity"]
        extra["fairness.equalized_odds"] = f["equalized_odds"]
    return extra


def rows_for(n_features: int, elements_per_row: int | None) -> int:
    """How many rows permutation importance reads: MAX_ROWS, fewer (down to MIN_ROWS) when the
    model's per-row cost times the predicts it makes would pass ELEMENT_BUDGET."""
    if not elements_per_row:
        return MAX_ROWS
    predicts = n_features * REPEATS + 1
    return max(MIN_ROWS, min(MAX_ROWS, ELEMENT_BUDGET // (elements_per_row * predicts)))


def permutation_importance(
    predict: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    task: str,
    n_classes: int,
    metric: str,
    greater_is_better: bool,
    names: list[str],
    seed: int = 0,
    elements_per_row: int | None = None,
) -> list[dict[str, Any]]:
    """Features by how much shuffling each one costs the objective (mean and std over REPEATS).

    On at most `rows_for` rows: the features x REPEATS predicts of a large forest or an ensemble of
    them on 2,000 rows took 80 s of a 30 s-budget experiment on a busy machine (modeldata hpc_data),
    so the rows shrink with the model's structural cost (deterministic: no stopwatch)."""
    rng = np.random.default_rng(seed)
    limit = rows_for(len(names), elements_per_row)
    if y.size > limit:
        idx = np.sort(rng.choice(y.size, limit, replace=False))
        x, y = x[idx], y[idx]
    sign = 1.0 if greater_is_better else -1.0

    def score(xx: np.ndarray) -> float:
        return sign * mx.compute(y, predict(xx), task, n_classes)[metric]

    base = score(x)
    out: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        drops = []
        for _ in range(REPEATS):
            xp = x.copy()
            xp[:, j] = x[rng.permutation(y.size), j]
            drops.append(base - score(xp))
        d = np.asarray(drops)
        out.append(
            {"feature": name, "importance": round(float(d.mean()), 6), "std": round(float(d.std()), 6)}
        )
    out.sort(key=lambda r: (-r["importance"], r["feature"]))
    return out
