"""Leaky columns: a column that predicts the named target almost perfectly by itself.

Such a column is usually the target restated (a refund flag next to `churned`, the day a customer
left) and makes any model look perfect in validation and useless in production. The ingest report
names each, with the score and how it was measured, so a user can drop it before an experiment:

- classification target (non-numeric, or at most MAX_CLASSES distinct numbers): the accuracy of
  predicting the target's majority class per value of the column (numbers cut into BINS quantile
  bins). A column leaks when that accuracy is at least MIN_ACCURACY *and* it removes at least
  MIN_LIFT of the errors of always guessing the majority class (so a 99%-majority target does not
  make every column look leaky);
- numeric target: |Spearman's rank correlation| for numeric columns, the share of variance
  explained by the groups (eta squared) for categorical ones; at least MIN_ASSOCIATION leaks.

Ids, free text and datetimes are skipped (unique per row, they "predict" anything in-sample), as are
columns whose values are unique on more than half the rows, and tables under MIN_ROWS rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.automl.ordinal import rank
from optiloop.automl.table import Column, Table

MIN_ROWS = 20
MAX_CLASSES = 20
BINS = 32
MIN_ACCURACY = 0.98
MIN_LIFT = 0.9
MIN_ASSOCIATION = 0.98


def _codes(c: Column, keep: np.ndarray) -> np.ndarray:
    vals = c.values[keep]
    return np.unique(vals, return_inverse=True)[1]


def _feature_codes(c: Column, keep: np.ndarray) -> np.ndarray | None:
    vals = c.values[keep]
    if c.type == "numeric":
        uniq = np.unique(vals)
        if uniq.size <= BINS:
            return np.searchsorted(uniq, vals)
        edges = np.unique(np.quantile(vals, np.linspace(0, 1, BINS + 1)[1:-1]))
        return np.searchsorted(edges, vals, side="right")
    codes = np.unique(vals, return_inverse=True)[1]
    if np.unique(codes).size > keep.sum() / 2:
        return None
    return codes


def _purity(x: np.ndarray, y: np.ndarray) -> float:
    table = np.zeros((int(x.max()) + 1, int(y.max()) + 1))
    np.add.at(table, (x, y), 1)
    return float(table.max(axis=1).sum() / y.size)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def _eta_squared(codes: np.ndarray, y: np.ndarray) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    sums = np.bincount(codes, weights=y)
    counts = np.bincount(codes)
    means = sums[counts > 0] / counts[counts > 0]
    between = float((counts[counts > 0] * (means - y.mean()) ** 2).sum())
    return between / total


def is_classification(t: Column) -> bool:
    if not t.is_numeric:
        return True
    return int(np.unique(t.values[~t.missing]).size) <= MAX_CLASSES


def find_leaks(table: Table, target: str) -> list[dict[str, Any]]:
    t = table.column(target)
    if t is None or t.type in ("id", "text", "datetime"):
        return []
    classify = is_classification(t)
    leaks: list[dict[str, Any]] = []
    for c in table.columns:
        if c.name == target or c.type in ("id", "text", "datetime"):
            continue
        keep = ~t.missing & ~c.missing
        n = int(keep.sum())
        if n < MIN_ROWS:
            continue
        if classify:
            y = _codes(t, keep)
            if np.unique(y).size < 2:
                continue
            x = _feature_codes(c, keep)
            if x is None:
                continue
            acc = _purity(x, y)
            majority = float(np.bincount(y).max() / y.size)
            lift = 1.0 - (1.0 - acc) / (1.0 - majority)
            if acc >= MIN_ACCURACY and lift >= MIN_LIFT:
                leaks.append(
                    {
                        "column": c.name,
                        "score": round(acc, 6),
                        "method": "accuracy of the majority class per value"
                        + (" (quantile bins)" if c.type == "numeric" else ""),
                        "reason": f"predicts {target!r} on {acc:.1%} of rows by itself "
                        f"(always guessing the majority: {majority:.1%})",
                    }
                )
            continue
        yv = t.values[keep].astype(np.float64)
        if c.is_numeric or c.type == "ordinal":
            xv = c.values[keep].astype(np.float64) if c.is_numeric else rank(c)[keep]
            score, method = abs(_spearman(xv, yv)), "|Spearman rank correlation|"
        else:
            codes = _feature_codes(c, keep)
            if codes is None:
                continue
            score, method = _eta_squared(codes, yv), "variance explained by its values (eta squared)"
        if score >= MIN_ASSOCIATION:
            leaks.append(
                {
                    "column": c.name,
                    "score": round(score, 6),
                    "method": method,
                    "reason": f"explains {target!r} almost perfectly ({method} {score:.4f})",
                }
            )
    return leaks
