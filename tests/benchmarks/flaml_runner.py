"""FLAML's side of tests/benchmarks/automl_vs_baselines.py, run by *FLAML's own* Python (a separate
environment, as the issue measures it: `python -m venv /tmp/flaml && /tmp/flaml/bin/pip install
'flaml[automl]'`), so its pins never meet OptiLoop's.

usage: <flaml python> flaml_runner.py IN.npz OUT.npy BUDGET_S
IN.npz holds x, y (training rows) and xt (rows to score), optionally `cat` (which columns are category
codes: handed to FLAML as pandas categories, as a user of FLAML would, so LightGBM splits them as
categories) and `regression` (then the metric is rmse); OUT.npy gets the class probabilities, or the
predicted values for regression.
"""

from __future__ import annotations

import sys

import numpy as np
from flaml import AutoML


def main() -> None:
    src, dst, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
    d = np.load(src)
    cat = d["cat"] if "cat" in d.files else np.zeros(d["x"].shape[1], dtype=bool)
    regression = bool(d["regression"]) if "regression" in d.files else False
    x, xt = d["x"], d["xt"]
    if cat.any():
        import pandas as pd

        def frame(a: np.ndarray) -> pd.DataFrame:
            df = pd.DataFrame(a, columns=[f"f{j}" for j in range(a.shape[1])])
            for j in np.flatnonzero(cat):
                codes = sorted(set(np.unique(d["x"][:, j][~np.isnan(d["x"][:, j])]).tolist()))
                df[f"f{j}"] = pd.Categorical(df[f"f{j}"], categories=codes)
            return df

        x, xt = frame(x), frame(xt)
    automl = AutoML()
    automl.fit(
        x, d["y"], task="regression" if regression else "classification",
        metric="rmse" if regression else "log_loss", time_budget=budget, n_jobs=1, seed=0,
        eval_method="cv", n_splits=5, verbose=0,
    )  # fmt: skip
    np.save(dst, automl.predict(xt) if regression else automl.predict_proba(xt))
    print(automl.best_estimator, file=sys.stderr)


if __name__ == "__main__":
    main()
