"""Held-out metrics in numpy (no scikit-learn: the XGBoost image need not have it)."""

from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (ties get their average rank); NaN when one class is absent."""
    y = np.asarray(y, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = np.asarray(score)[order]
    ranks = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def logloss(y: np.ndarray, proba: np.ndarray) -> float:
    """Binary (proba: positive class, shape n) or multiclass (shape n x k, y the class codes)."""
    eps = 1e-15
    p = np.clip(np.asarray(proba, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y)
    if p.ndim == 1:
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(-np.mean(np.log(p[np.arange(len(y)), y.astype(int)])))


def classification(task: str, y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    if task == "binary":
        p = proba.reshape(len(proba), -1)[:, 0]
        return {
            "auc": auc(y, p),
            "logloss": logloss(y, p),
            "accuracy": float(np.mean((p >= 0.5) == (y == 1))),
        }
    return {"logloss": logloss(y, proba), "accuracy": float(np.mean(np.argmax(proba, axis=1) == y))}


def regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    err = np.asarray(pred, dtype=np.float64).reshape(len(pred)) - y
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row indices, seeded; no validation rows below 5 rows in all."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = round(n * fraction) if n >= 5 else 0
    n_val = min(max(n_val, 1 if n >= 5 else 0), n - 1) if n > 1 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])
