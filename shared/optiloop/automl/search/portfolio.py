"""The model families the search chooses among, each with its search space, its default
configuration (tried first, so every family is measured at least once and plain logistic regression
is always in the race — on small tables it often wins) and its exporter.

Every model is fitted single-threaded and seeded, so a trial's result depends on its configuration
and the data only, not on the machine's load.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.automl.export.linear import LinearModel, export_linear


@dataclass(frozen=True)
class Context:
    task: str  # binary | multiclass | regression
    n_classes: int
    n_features: int
    kinds: list[tuple[str, int]]  # per feature: ("numeric", 0) | ("onehot", n_categories)
    seed: int
    contamination: float = 0.0  # anomaly detection: the share of rows to flag
    n_rows: int = 0  # the training rows (isolation forest's default subsample size depends on it)


class Fitted:
    """A scikit-learn-style estimator seen through the serving convention (predict_outputs)."""

    def __init__(self, est: Any, task: str) -> None:
        self.est = est
        self.task = task

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> Fitted:
        self.est.fit(x, y, sample_weight=sample_weight)
        return self

    def predict_outputs(self, x: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return np.asarray(self.est.predict(x), dtype=np.float64).reshape(-1, 1)
        p = np.asarray(self.est.predict_proba(x), dtype=np.float64)
        return p[:, 1:2] if self.task == "binary" else p


@dataclass(frozen=True)
class Family:
    name: str
    framework: str
    runtime: str
    suggest: Callable[[Any, Context], dict[str, Any]]
    default: Callable[[Context], dict[str, Any]]
    build: Callable[[dict[str, Any], Context], Any]
    export: Callable[[Any, Context], dict[str, Any]]
    needs: str | None = None  # a module the family trains with that may be absent (torch)
    # manifest key -> (file name, bytes) shipped beside the served document, made from that document
    # (what `export` returned: the MLP's ONNX graph is written from it, not from the model again)
    extras: Callable[[dict[str, Any], Context], dict[str, tuple[str, bytes]]] | None = None
    tolerance: float = 1e-6  # how far the served export may be from the fitted model (probabilities)
    anomaly: bool = False  # an anomaly detector (task_type anomaly), never in a supervised search


def _p(params: dict[str, Any], family: str) -> dict[str, Any]:
    """`family.key` trial params -> the family's own keyword arguments."""
    pre = family + "."
    return {k[len(pre) :]: v for k, v in params.items() if k.startswith(pre)}


# ------------------------------------------------------------------ linear
def _linear_suggest(trial: Any, ctx: Context) -> dict[str, Any]:
    if ctx.task == "regression":
        return {"linear.alpha": trial.suggest_float("linear.alpha", 1e-3, 1e3, log=True)}
    return {"linear.C": trial.suggest_float("linear.C", 1e-3, 1e2, log=True)}


def _linear_default(ctx: Context) -> dict[str, Any]:
    return {"linear.alpha": 1.0} if ctx.task == "regression" else {"linear.C": 1.0}


def _linear_build(params: dict[str, Any], ctx: Context) -> LinearModel:
    kw = _p(params, "linear")
    if ctx.task == "regression":
        from sklearn.linear_model import Ridge

        return LinearModel(Ridge(alpha=kw["alpha"]), ctx.kinds, ctx.task)
    from sklearn.linear_model import LogisticRegression

    return LinearModel(LogisticRegression(C=kw["C"], max_iter=2000), ctx.kinds, ctx.task)


# ------------------------------------------------------------------ xgboost
def _xgb_suggest(trial: Any, ctx: Context) -> dict[str, Any]:
    return {
        "xgboost.n_estimators": trial.suggest_int("xgboost.n_estimators", 50, 500, step=50),
        "xgboost.max_depth": trial.suggest_int("xgboost.max_depth", 2, 10),
        "xgboost.learning_rate": trial.suggest_float("xgboost.learning_rate", 0.01, 0.3, log=True),
        "xgboost.subsample": trial.suggest_float("xgboost.subsample", 0.5, 1.0),
        "xgboost.colsample_bytree": trial.suggest_float("xgboost.colsample_bytree", 0.3, 1.0),
        "xgboost.min_child_weight": trial.suggest_float("xgboost.min_child_weight", 0.5, 20.0, log=True),
        "xgboost.reg_lambda": trial.suggest_float("xgboost.reg_lambda", 1e-3, 10.0, log=True),
    }


def _xgb_default(ctx: Context) -> dict[str, Any]:
    """XGBoost's own defaults (100 rounds, depth 6, eta 0.3)."""
    return {
        "xgboost.n_estimators": 100,
        "xgboost.max_depth": 6,
        "xgboost.learning_rate": 0.3,
        "xgboost.subsample": 1.0,
        "xgboost.colsample_bytree": 1.0,
        "xgboost.min_child_weight": 1.0,
        "xgboost.reg_lambda": 1.0,
    }


def _xgb_build(params: dict[str, Any], ctx: Context) -> Fitted:
    import xgboost as xgb

    kw = _p(params, "xgboost") | {"tree_method": "hist", "n_jobs": 1, "random_state": ctx.seed}
    est = xgb.XGBRegressor(**kw) if ctx.task == "regression" else xgb.XGBClassifier(**kw)
    return Fitted(est, ctx.task)


def _xgb_export(model: Fitted, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.export.xgb import export_xgb

    return export_xgb(model.est, ctx.n_features)


# ------------------------------------------------------------------ forests
def _forest_suggest(name: str) -> Callable[[Any, Context], dict[str, Any]]:
    def suggest(trial: Any, ctx: Context) -> dict[str, Any]:
        return {
            f"{name}.n_estimators": trial.suggest_int(f"{name}.n_estimators", 50, 300, step=50),
            f"{name}.max_features": trial.suggest_float(f"{name}.max_features", 0.05, 1.0),
            f"{name}.min_samples_leaf": trial.suggest_int(f"{name}.min_samples_leaf", 1, 10),
        }

    return suggest


def _forest_default(name: str) -> Callable[[Context], dict[str, Any]]:
    def default(ctx: Context) -> dict[str, Any]:
        """scikit-learn's defaults: 100 trees, sqrt(features) per split (classification) or all."""
        frac = math.sqrt(ctx.n_features) / ctx.n_features if ctx.task != "regression" else 1.0
        return {
            f"{name}.n_estimators": 100,
            f"{name}.max_features": min(1.0, max(0.05, frac)),
            f"{name}.min_samples_leaf": 1,
        }

    return default


def _forest_build(name: str) -> Callable[[dict[str, Any], Context], Fitted]:
    def build(params: dict[str, Any], ctx: Context) -> Fitted:
        from sklearn import ensemble

        kw = _p(params, name) | {"n_jobs": 1, "random_state": ctx.seed}
        cls = {
            ("random_forest", False): ensemble.RandomForestClassifier,
            ("random_forest", True): ensemble.RandomForestRegressor,
            ("extra_trees", False): ensemble.ExtraTreesClassifier,
            ("extra_trees", True): ensemble.ExtraTreesRegressor,
        }[(name, ctx.task == "regression")]
        return Fitted(cls(**kw), ctx.task)

    return build


def _forest_export(model: Fitted, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.export.sktrees import export_forest

    return export_forest(model.est, ctx.task, ctx.n_features)


# ------------------------------------------------------------------ histogram gradient boosting
def _hgb_suggest(trial: Any, ctx: Context) -> dict[str, Any]:
    return {
        "hist_gradient_boosting.max_iter": trial.suggest_int(
            "hist_gradient_boosting.max_iter", 50, 400, step=50
        ),
        "hist_gradient_boosting.learning_rate": trial.suggest_float(
            "hist_gradient_boosting.learning_rate", 0.01, 0.3, log=True
        ),
        "hist_gradient_boosting.max_leaf_nodes": trial.suggest_int(
            "hist_gradient_boosting.max_leaf_nodes", 4, 64
        ),
        "hist_gradient_boosting.min_samples_leaf": trial.suggest_int(
            "hist_gradient_boosting.min_samples_leaf", 2, 50
        ),
        "hist_gradient_boosting.l2_regularization": trial.suggest_float(
            "hist_gradient_boosting.l2_regularization", 1e-6, 10.0, log=True
        ),
    }


def _hgb_default(ctx: Context) -> dict[str, Any]:
    return {
        "hist_gradient_boosting.max_iter": 100,
        "hist_gradient_boosting.learning_rate": 0.1,
        "hist_gradient_boosting.max_leaf_nodes": 31,
        "hist_gradient_boosting.min_samples_leaf": 20,
        "hist_gradient_boosting.l2_regularization": 1e-6,
    }


def _hgb_build(params: dict[str, Any], ctx: Context) -> Fitted:
    from sklearn import ensemble

    kw = _p(params, "hist_gradient_boosting") | {"early_stopping": False, "random_state": ctx.seed}
    if ctx.task == "regression":
        return Fitted(ensemble.HistGradientBoostingRegressor(**kw), ctx.task)
    return Fitted(ensemble.HistGradientBoostingClassifier(**kw), ctx.task)


def _hgb_export(model: Fitted, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.export.sktrees import export_hist_gb

    return export_hist_gb(model.est, ctx.task, ctx.n_features)


# ------------------------------------------------------------------ PyTorch MLP (numpy + ONNX exports)
def _mlp_suggest(trial: Any, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search import mlp

    return mlp.suggest(trial, ctx)


def _mlp_default(ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search import mlp

    return mlp.default(ctx)


def _mlp_build(params: dict[str, Any], ctx: Context) -> Any:
    from optiloop.automl.search.mlp import MlpModel

    return MlpModel(params, ctx.kinds, ctx.task, ctx.n_classes, ctx.seed)


def _mlp_export(model: Any, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search.mlp import export_numpy

    return export_numpy(model)


def _mlp_extras(doc: dict[str, Any], ctx: Context) -> dict[str, tuple[str, bytes]]:
    from optiloop.automl.export.mlp_onnx import onnx_from_mlp

    return {"onnx_file": ("model.onnx", onnx_from_mlp(doc))}


# ------------------------------------------------------------------ anomaly detection
def _iforest_suggest(trial: Any, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search import anomaly

    return anomaly.suggest(trial, ctx)


def _iforest_default(ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search import anomaly

    return anomaly.default(ctx)


def _iforest_build(params: dict[str, Any], ctx: Context) -> Any:
    from optiloop.automl.search.anomaly import IsolationForestModel

    return IsolationForestModel(params, ctx.contamination, ctx.seed)


def _iforest_export(model: Any, ctx: Context) -> dict[str, Any]:
    from optiloop.automl.search.anomaly import export_isolation_forest

    return export_isolation_forest(model, ctx.n_features)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "linear", "scikit-learn", "linear", _linear_suggest, _linear_default, _linear_build,
            lambda m, ctx: export_linear(m),
        ),
        Family("xgboost", "xgboost", "trees", _xgb_suggest, _xgb_default, _xgb_build, _xgb_export),
        Family(
            "random_forest", "scikit-learn", "trees", _forest_suggest("random_forest"),
            _forest_default("random_forest"), _forest_build("random_forest"), _forest_export,
        ),
        Family(
            "extra_trees", "scikit-learn", "trees", _forest_suggest("extra_trees"),
            _forest_default("extra_trees"), _forest_build("extra_trees"), _forest_export,
        ),
        Family(
            "hist_gradient_boosting", "scikit-learn", "trees", _hgb_suggest, _hgb_default, _hgb_build,
            _hgb_export,
        ),
        # torch computes in float32, the numpy runtime in float64: 1e-4 on probabilities (float32's
        # rounding of logits summed over 64-256 units; 1e-5 failed one fold model in five on penguins,
        # at 1.4e-5 and 2.3e-5, when the hedge exported them: optiloop.automl.search.hedge)
        Family(
            "mlp", "torch", "mlp", _mlp_suggest, _mlp_default, _mlp_build, _mlp_export, "torch",
            _mlp_extras, 1e-4,
        ),
        Family(
            "isolation_forest", "scikit-learn", "trees", _iforest_suggest, _iforest_default,
            _iforest_build, _iforest_export, anomaly=True,
        ),
    )
}  # fmt: skip
NAMES: tuple[str, ...] = tuple(FAMILIES)


# what a framework's first fit and export import
LIBRARIES: dict[str, tuple[str, ...]] = {
    "scikit-learn": ("sklearn.linear_model", "sklearn.ensemble"),
    "xgboost": ("xgboost",),
    "torch": ("torch", "onnx"),
}


def load_libraries(families: Sequence[str]) -> None:
    """Import what the families train and export with, before a search starts its clocks.

    Why: a library's first import in a process is paid once (torch's alone is ~3 CPU-seconds), and
    charged to whichever trial first needs it, the same search's CPU budget ended at a different
    trial in a fresh server process than in a warm one (measured: the first MLP trial cost 6.4
    CPU-seconds fresh, 3.4 warm). Loaded first, every trial's `cpu_s` is its fits and export alone."""
    import importlib

    for framework in sorted({FAMILIES[f].framework for f in families}):
        for module in LIBRARIES.get(framework, ()):
            importlib.import_module(module)


def available_families() -> dict[str, Family]:
    """The families this worker can train: the MLP needs torch (and onnx to export), which are an
    optional extra; without them it is left out rather than failing every one of its trials."""
    import importlib.util

    return {
        n: f
        for n, f in FAMILIES.items()
        if f.needs is None or all(importlib.util.find_spec(m) is not None for m in (f.needs, "onnx"))
    }


def display_name(family: str, task: str) -> str:
    """What the leaderboard calls a family: the linear one is logistic regression or ridge."""
    if family == "linear":
        return "ridge" if task == "regression" else "logistic_regression"
    return family
