"""scikit-learn forests and HistGradientBoosting -> `optiloop.trees/1`.

The trees runtime sends a row left iff `float32(x) < threshold` (XGBoost's rule). scikit-learn's
forests compare `float32(x) <= t` with `t` a float64 (HistGradientBoosting: `x <= t`, and the
features OptiLoop trains on are float32 values already, see optiloop.automl.features). For a float32
`x`, `x <= t` holds iff `x <= down(t)`, the largest float32 not above `t`, iff `x < next(down(t))`.
Rounding `t` to nearest instead would send a row equal to a rounded-up threshold the wrong way.

Forests average probabilities (or values) over trees: each tree's leaves hold its share
(`p / n_trees`) under the identity link, one tree document per class for multiclass. Boosted trees
keep their raw leaf values with the baseline as `base_margin` and the loss's link.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FORMAT = "optiloop.trees/1"


def portable_threshold(t: np.ndarray) -> np.ndarray:
    """float32 thresholds `u` with `x < u` <=> `x <= t` for every float32 `x`."""
    t = np.asarray(t, dtype=np.float64)
    down = t.astype(np.float32)
    over = down.astype(np.float64) > t
    down[over] = np.nextafter(down[over], np.float32(-np.inf))
    return np.nextafter(down, np.float32(np.inf))


def _forest_tree(tree: Any, output: int, leaf_values: np.ndarray) -> dict[str, Any]:
    left = tree.children_left.astype(np.int64)
    is_leaf = left < 0
    missing_left = getattr(tree, "missing_go_to_left", np.zeros(left.size, dtype=np.uint8))
    thr = np.where(
        is_leaf, 0.0, portable_threshold(np.where(is_leaf, 0.0, tree.threshold)).astype(np.float64)
    )
    return {
        "output": output,
        "feature": np.where(is_leaf, 0, tree.feature.astype(np.int64)).tolist(),
        "threshold": thr.tolist(),
        "left": np.where(is_leaf, -1, left).tolist(),
        "right": np.where(is_leaf, -1, tree.children_right.astype(np.int64)).tolist(),
        "default_left": np.asarray(missing_left, dtype=int).tolist(),
        "value": np.where(is_leaf, leaf_values, 0.0).tolist(),
    }


def export_forest(forest: Any, task: str, n_features: int) -> dict[str, Any]:
    """RandomForest / ExtraTrees (classifier or regressor)."""
    n = len(forest.estimators_)
    trees: list[dict[str, Any]] = []
    n_outputs = 1
    for est in forest.estimators_:
        tree = est.tree_
        value = np.asarray(tree.value, dtype=np.float64)[:, 0, :]
        if task == "regression":
            trees.append(_forest_tree(tree, 0, value[:, 0] / n))
            continue
        total = value.sum(axis=1, keepdims=True)
        proba = np.divide(value, total, out=np.zeros_like(value), where=total > 0)
        if task == "binary":
            trees.append(_forest_tree(tree, 0, proba[:, 1] / n))
        else:
            n_outputs = proba.shape[1]
            trees.extend(_forest_tree(tree, k, proba[:, k] / n) for k in range(n_outputs))
    return {
        "format": FORMAT,
        "n_features": n_features,
        "n_outputs": n_outputs,
        "base_margin": [0.0] * n_outputs,
        "link": "identity",
        "trees": trees,
    }


def _hist_tree(nodes: np.ndarray, output: int) -> dict[str, Any]:
    is_leaf = nodes["is_leaf"].astype(bool)
    if np.any(nodes["is_categorical"][~is_leaf]):
        raise ValueError("categorical splits are not portable; train on category codes as numbers")
    thr = portable_threshold(np.where(is_leaf, 0.0, nodes["num_threshold"])).astype(np.float64)
    return {
        "output": output,
        "feature": np.where(is_leaf, 0, nodes["feature_idx"].astype(np.int64)).tolist(),
        "threshold": np.where(is_leaf, 0.0, thr).tolist(),
        # unsigned in scikit-learn: widen before -1 can mark a leaf
        "left": np.where(is_leaf, -1, nodes["left"].astype(np.int64)).tolist(),
        "right": np.where(is_leaf, -1, nodes["right"].astype(np.int64)).tolist(),
        "default_left": nodes["missing_go_to_left"].astype(int).tolist(),
        "value": np.where(is_leaf, nodes["value"], 0.0).astype(np.float64).tolist(),
    }


def export_hist_gb(model: Any, task: str, n_features: int) -> dict[str, Any]:
    """HistGradientBoostingClassifier / Regressor (squared error or log loss)."""
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    n_outputs = base.size
    trees = [_hist_tree(pred.nodes, k) for iteration in model._predictors for k, pred in enumerate(iteration)]
    link = {"binary": "logistic", "multiclass": "softmax", "regression": "identity"}[task]
    return {
        "format": FORMAT,
        "n_features": n_features,
        "n_outputs": n_outputs,
        "base_margin": base.tolist(),
        "link": link,
        "trees": trees,
    }
