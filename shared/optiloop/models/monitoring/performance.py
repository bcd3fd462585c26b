"""Model quality on labelled served traffic: AUC and accuracy (classification), RMSE and MAE
(regression), in numpy, and which direction of each is "worse".

Labels arrive later than predictions (`optiloop.models.monitoring.feedback`); a performance monitor
joins the two and measures here. The training-time value of the same metric (the version's
`metrics`) is the reference the decay is reported against.
"""

from __future__ import annotations

import numpy as np

PERFORMANCE_METRICS: tuple[str, ...] = ("auc", "accuracy", "rmse", "mae")
HIGHER_IS_BETTER: frozenset[str] = frozenset({"auc", "accuracy"})
TASKS_OF: dict[str, tuple[str, ...]] = {
    "auc": ("binary",),
    "accuracy": ("binary", "multiclass"),
    "rmse": ("regression",),
    "mae": ("regression",),
}


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum (Mann-Whitney) identity, ties counted half; None with one class only."""
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    pos = int(np.sum(y == 1))
    neg = int(y.size - pos)
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    # average rank of each run of ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], s.size]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def accuracy(y: np.ndarray, predicted: np.ndarray) -> float | None:
    y = np.asarray(y)
    return None if y.size == 0 else float(np.mean(np.asarray(predicted) == y))


def rmse(y: np.ndarray, value: np.ndarray) -> float | None:
    y = np.asarray(y, dtype=np.float64)
    return None if y.size == 0 else float(np.sqrt(np.mean((np.asarray(value, dtype=np.float64) - y) ** 2)))


def mae(y: np.ndarray, value: np.ndarray) -> float | None:
    y = np.asarray(y, dtype=np.float64)
    return None if y.size == 0 else float(np.mean(np.abs(np.asarray(value, dtype=np.float64) - y)))


def measure(metric: str, task: str, y: np.ndarray, outputs: np.ndarray) -> float | None:
    """The metric of outputs (rows x model outputs, as captured) against labels y (encoded: the class
    index for classification, the value for regression)."""
    out = np.asarray(outputs, dtype=np.float64)
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if metric == "auc":
        return auc(y, out[:, 0])
    if metric == "accuracy":
        predicted = (out[:, 0] >= 0.5).astype(np.float64) if task == "binary" else np.argmax(out, axis=1)
        return accuracy(np.asarray(y, dtype=np.float64), predicted.astype(np.float64))
    if metric == "rmse":
        return rmse(y, out[:, 0])
    if metric == "mae":
        return mae(y, out[:, 0])
    raise ValueError(f"unknown performance metric {metric!r}")  # pragma: no cover - validated earlier


def breached(metric: str, value: float, threshold: float) -> bool:
    """AUC/accuracy breach below the threshold (a floor); RMSE/MAE above it (a ceiling)."""
    return value < threshold if metric in HIGHER_IS_BETTER else value > threshold
