"""Every exporter's artifact predicts what the fitted model predicts (to 1e-6), through the same
runtime the predict path uses — with missing values, categories and float32 tie-breaking."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.automl.export.artifact import build_artifact
from optiloop.automl.export.sktrees import portable_threshold
from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact

pytest.importorskip("sklearn")


def _data(task: str, n: int = 160, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.integers(0, 5, size=n).astype(float)  # ties: split values are training values
    c = rng.choice(["red", "green", "blue"], size=n)
    z = a + 0.5 * b + (c == "red")
    raw = {
        "a": [None if k % 11 == 0 else float(v) for k, v in enumerate(a)],
        "b": [float(v) for v in b],
        "c": [str(v) for v in c],
    }
    if task == "regression":
        raw["y"] = [float(v) * 100 for v in z]
    elif task == "binary":
        raw["y"] = [int(v > np.median(z)) for v in z]
    else:
        raw["y"] = [int(np.digitize(v, np.quantile(z, [0.33, 0.66]))) for v in z]
    return prepare(infer_table(raw), "y", "regression" if task == "regression" else "classification")


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize(
    "family", ["linear", "random_forest", "extra_trees", "hist_gradient_boosting", "xgboost"]
)
def test_exported_predictions_equal_the_fitted_model(task: str, family: str) -> None:
    from optiloop.automl.search.portfolio import FAMILIES, Context

    if family == "xgboost":
        pytest.importorskip("xgboost")
    prep = _data(task)
    sig = prep.signature
    kinds = [("onehot", len(i.categories)) if i.type == "category" else ("numeric", 0) for i in sig.inputs]
    ctx = Context(task=sig.task, n_classes=len(sig.classes), n_features=prep.x.shape[1], kinds=kinds, seed=0)
    fam = FAMILIES[family]
    params = fam.default(ctx)
    if family in ("random_forest", "extra_trees"):
        params = {k: (20 if k.endswith("n_estimators") else v) for k, v in params.items()}
    model = fam.build(params, ctx).fit(prep.x, prep.y, None)
    art = build_artifact(
        fam.export(model, ctx), runtime=fam.runtime, framework=fam.framework, signature=sig,
        params={}, metrics={}, data_fingerprint="sha256:x", rows=int(prep.y.size),
    )  # fmt: skip
    predictor = runtimes.load(read_artifact(art))
    x_new = np.vstack([prep.x, np.full((1, prep.x.shape[1]), np.nan)])  # an all-missing row too
    want, got = model.predict_outputs(x_new), predictor.predict(x_new)
    # XGBoost sums in float32: regression values agree relative to the largest one (runner.py)
    scale = max(1.0, float(np.max(np.abs(want)))) if task == "regression" else 1.0
    assert np.all(np.abs(got - want) <= 2e-6 * scale), float(np.max(np.abs(got - want)))


def test_portable_thresholds_keep_scikit_learns_less_or_equal() -> None:
    t = np.array([0.1, 0.5, 1.0 / 3.0, 2.5, -7.25, 1e-30], dtype=np.float64)
    u = portable_threshold(t)
    for ti, ui in zip(t, u, strict=True):
        xs = np.array([np.float32(ti), np.nextafter(np.float32(ti), np.float32(-np.inf)),
                       np.nextafter(np.float32(ti), np.float32(np.inf))], dtype=np.float32)  # fmt: skip
        assert np.array_equal(xs < ui, xs.astype(np.float64) <= ti)
