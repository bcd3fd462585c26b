"""The winner's reliability curve and, for binary tasks, its decision-threshold analysis.

Both read the winner's *out-of-fold* probabilities where the run kept them (the local run keeps its
best-so-far trial's; each row scored by a model that did not see it), so they are held-out numbers;
otherwise the served model's probabilities on the training rows, which flatter it — `source` says
which. The reliability curve bins the top-label probability (binary: the positive class's) into BINS
equal-width bins: mean predicted probability against the observed frequency (binary: the share of
positives; multiclass: of correct top labels), with the count per bin; its gap is what `ece`
averages. The threshold analysis is what deciding `positive if p >= t` would do at each t: precision,
recall, F1, accuracy and the share of rows flagged — where to set t is a cost question the report
leaves to its reader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 10
THRESHOLDS = [round(0.05 * k, 2) for k in range(1, 20)]


def curve(y: np.ndarray, out: np.ndarray, task: str) -> list[dict[str, Any]]:
    """Per non-empty bin: `{"bin", "mean_predicted", "observed", "count"}`."""
    out = np.asarray(out, dtype=np.float64).reshape(y.size, -1)
    if task == "binary":
        p, hit = out[:, 0], (y == 1).astype(np.float64)
    else:
        p, hit = out.max(axis=1), (out.argmax(axis=1) == y).astype(np.float64)
    which = np.minimum((p * BINS).astype(int), BINS - 1)
    rows = []
    for b in range(BINS):
        sel = which == b
        if sel.any():
            rows.append({
                "bin": [b / BINS, (b + 1) / BINS],
                "mean_predicted": round(float(p[sel].mean()), 6),
                "observed": round(float(hit[sel].mean()), 6),
                "count": int(sel.sum()),
            })  # fmt: skip
    return rows


def thresholds(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Binary: per threshold t, the decisions `p >= t` scored against y."""
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    pos = y == 1
    rows = []
    for t in THRESHOLDS:
        flag = p >= t
        tp = int((flag & pos).sum())
        fp = int((flag & ~pos).sum())
        fn = int((~flag & pos).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({
            "threshold": t,
            "precision": round(precision, 6),
            "recall": round(recall, 6),
            "f1": round(f1, 6),
            "accuracy": round(float((flag == pos).mean()), 6),
            "flagged": round(float(flag.mean()), 6),
        })  # fmt: skip
    return rows
