"""The anomaly-detection template: an isolation forest with a threshold from a contamination budget,
exported to `optiloop.trees/1` so it serves by numpy like every other tree model.

Isolation forest scores a row by its mean path length E over the trees (short = easy to isolate =
anomalous). The threshold is scikit-learn's own: the `contamination` quantile of the training rows'
scores (`offset_`), i.e. a path length t. What is served is

    score = sigmoid(k * (t - E)),   k = 1 / std(E on the training rows)

— a binary signature whose positive class (`true`) means "anomaly": the score is 0.5 exactly at the
threshold, so the runtime's usual `label = score >= 0.5` flags the contamination budget's share of
the training rows, and rows rank as scikit-learn ranks them. It is a monotone score, not a
probability (k only sets how fast it moves through 0.5). Because the margin k * (t - E) is a sum over
trees of per-leaf constants — each leaf holds k * (t/n - (depth + c(leaf size) - 1)/n) — it is an
ordinary tree ensemble under the logistic link; missing values follow each node's scikit-learn
`missing_go_to_left`, and each tree's own feature subset is mapped back to the table's columns.

"Friends" (LOF, one-class SVM, robust covariance) are not in the template: none of them exports to a
numpy runtime as exactly as trees do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optiloop.automl.export.sktrees import FORMAT, portable_threshold

DEFAULT_CONTAMINATION = 0.05


def _c(n: np.ndarray) -> np.ndarray:
    """Average path length of an unsuccessful BST search over n points (scikit-learn's)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def suggest(trial: Any, ctx: Any) -> dict[str, Any]:
    return {
        "isolation_forest.n_estimators": trial.suggest_int("isolation_forest.n_estimators", 50, 300, step=50),
        "isolation_forest.max_samples": trial.suggest_float("isolation_forest.max_samples", 0.05, 1.0),
        "isolation_forest.max_features": trial.suggest_float("isolation_forest.max_features", 0.3, 1.0),
    }


def default(ctx: Any) -> dict[str, Any]:
    """scikit-learn's defaults (100 trees, min(256, rows) rows each, every feature), the subsample
    as a share of the rows so it lies in the searched range."""
    return {
        "isolation_forest.n_estimators": 100,
        "isolation_forest.max_samples": min(1.0, 256 / max(int(ctx.n_rows), 256)),
        "isolation_forest.max_features": 1.0,
    }


class IsolationForestModel:
    """fit(x) ignores labels (unsupervised); predict_outputs -> (rows, 1) anomaly scores."""

    def __init__(self, params: dict[str, Any], contamination: float, seed: int) -> None:
        self.kw = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("isolation_forest.")}
        self.contamination = contamination
        self.seed = seed
        self.est: Any = None
        self.threshold_ = 0.0  # path length t
        self.k_ = 1.0

    def fit(self, x: np.ndarray, y: np.ndarray | None = None, sample_weight: np.ndarray | None = None) -> Any:
        from sklearn.ensemble import IsolationForest

        self.est = IsolationForest(
            **self.kw, contamination=self.contamination, random_state=self.seed, n_jobs=1
        ).fit(x)
        e = self.path_length(x)
        self.threshold_ = -float(_c(np.array([self.est.max_samples_]))[0]) * math.log2(
            -float(self.est.offset_)
        )
        self.k_ = 1.0 / max(float(np.std(e)), 1e-9)
        return self

    def path_length(self, x: np.ndarray) -> np.ndarray:
        """E: the mean path length, from scikit-learn's own score_samples."""
        s = -np.asarray(self.est.score_samples(x), dtype=np.float64)
        return -float(_c(np.array([self.est.max_samples_]))[0]) * np.log2(s)

    def predict_outputs(self, x: np.ndarray) -> np.ndarray:
        z = self.k_ * (self.threshold_ - self.path_length(x))
        return (1.0 / (1.0 + np.exp(-z))).reshape(-1, 1)


def export_isolation_forest(model: IsolationForestModel, n_features: int) -> dict[str, Any]:
    est = model.est
    n = len(est.estimators_)
    per_tree_t = model.threshold_ / n
    trees: list[dict[str, Any]] = []
    for tree_est, features in zip(est.estimators_, est.estimators_features_, strict=True):
        tree = tree_est.tree_
        left = tree.children_left.astype(np.int64)
        is_leaf = left < 0
        depth = np.asarray(tree.compute_node_depths(), dtype=np.float64)
        path = depth + _c(tree.n_node_samples) - 1.0
        value = model.k_ * (per_tree_t - path / n)
        feat = np.asarray(features, dtype=np.int64)[np.where(is_leaf, 0, tree.feature.astype(np.int64))]
        thr = portable_threshold(np.where(is_leaf, 0.0, tree.threshold)).astype(np.float64)
        missing_left = getattr(tree, "missing_go_to_left", np.zeros(left.size, dtype=np.uint8))
        trees.append(
            {
                "output": 0,
                "feature": np.where(is_leaf, 0, feat).tolist(),
                "threshold": np.where(is_leaf, 0.0, thr).tolist(),
                "left": np.where(is_leaf, -1, left).tolist(),
                "right": np.where(is_leaf, -1, tree.children_right.astype(np.int64)).tolist(),
                "default_left": np.asarray(missing_left, dtype=int).tolist(),
                "value": np.where(is_leaf, value, 0.0).tolist(),
            }
        )
    return {
        "format": FORMAT,
        "n_features": n_features,
        "n_outputs": 1,
        "base_margin": [0.0],
        "link": "logistic",
        "trees": trees,
    }
