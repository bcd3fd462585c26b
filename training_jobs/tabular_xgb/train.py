"""Gradient-boosted trees on a tabular channel, exported for numpy serving (optiloop.trees/1).

Channel `train`: golden-set examples (`input` = the features, `expected` = the label) or a table
(CSV or JSON Lines) whose label column is the `target` hyperparameter. The signature is inferred
from the rows (number / integer / boolean / category inputs; binary, multiclass or regression from
the labels), the rows are encoded as the serving path encodes instances, a seeded validation split
is held out, and the held-out metrics are printed (`metric: auc=...`) and written to the manifest.

Hyperparameters (all strings): target (label column of a table, default "target"), task (auto |
binary | multiclass | regression), n_estimators (100), max_depth (4), learning_rate (0.1),
min_child_weight (1), subsample (1.0), validation_fraction (0.2), seed (0), nthread (SM_NUM_CPUS),
id_fields (comma-separated fields echoed back by predictions, not features).

Writes to SM_MODEL_DIR: model.trees.json, optiloop-model.json, baseline.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # _lib/ sits beside train.py in the bundle, above it here

import numpy as np  # noqa: E402
from _lib import encoding, evaluate, sm  # noqa: E402
from _lib.model_files import write_model  # noqa: E402
from _lib.tabular import load_table  # noqa: E402
from _lib.trees_export import export_booster  # noqa: E402


def main() -> None:
    hp = sm.hyperparameters()
    t = load_table("tabular_xgb", hp)
    rows, inputs, task, classes = t.rows, t.inputs, t.task, t.classes
    x, y, train, val = t.x, t.y, t.train, t.val

    import xgboost as xgb

    params: dict[str, object] = {
        "max_depth": int(hp.get("max_depth", "4")),
        "eta": float(hp.get("learning_rate", "0.1")),
        "min_child_weight": float(hp.get("min_child_weight", "1")),
        "subsample": float(hp.get("subsample", "1.0")),
        "nthread": sm.num_cpus(int(hp["nthread"]) if "nthread" in hp else None),
        "seed": int(hp.get("seed", "0")),
        "objective": {"binary": "binary:logistic", "multiclass": "multi:softprob"}.get(
            task, "reg:squarederror"
        ),
    }
    if task == "multiclass":
        params["num_class"] = len(classes)
    rounds = int(hp.get("n_estimators", "100"))
    t0 = time.perf_counter()
    booster = xgb.train(params, xgb.DMatrix(x[train], label=y[train], missing=np.nan), num_boost_round=rounds)

    print(f"timing: fit_seconds={time.perf_counter() - t0:.4f}")  # not a metric: benchmarks read it

    def predict(idx: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(xgb.DMatrix(x[idx], missing=np.nan)))

    metrics: dict[str, float] = {}
    held = val if len(val) else train
    if task == "regression":
        metrics.update(evaluate.regression(y[held], predict(held)))
        metrics["train.rmse"] = evaluate.regression(y[train], predict(train))["rmse"]
    else:
        metrics.update(evaluate.classification(task, y[held], predict(held)))
        metrics["train.logloss"] = evaluate.classification(task, y[train], predict(train))["logloss"]
    for name, value in metrics.items():
        sm.metric(name, value)

    signature = t.signature()
    all_rows = np.arange(len(rows))
    write_model(
        sm.model_dir(),
        export_booster(booster, len(inputs)),
        signature,
        params={**hp, "n_rows": len(rows), "n_train": len(train), "n_validation": len(val)},
        metrics=metrics,
        data_fingerprint=sm.data_fingerprint(sm.channels()),
        baseline=encoding.baseline(inputs, x, predict(all_rows), task, classes),
    )
    print("wrote model.trees.json, optiloop-model.json, baseline.json")


if __name__ == "__main__":
    main()
