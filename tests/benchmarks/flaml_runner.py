"""FLAML's side of tests/benchmarks/automl_vs_baselines.py, run by *FLAML's own* Python (a separate
environment, as the issue measures it: `python -m venv /tmp/flaml && /tmp/flaml/bin/pip install
'flaml[automl]'`), so its pins never meet OptiLoop's.

usage: <flaml python> flaml_runner.py IN.npz OUT.npy BUDGET_S
IN.npz holds x, y (training rows) and xt (rows to score); OUT.npy gets the class probabilities.
"""

from __future__ import annotations

import sys

import numpy as np
from flaml import AutoML


def main() -> None:
    src, dst, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
    d = np.load(src)
    automl = AutoML()
    automl.fit(
        d["x"], d["y"], task="classification", metric="log_loss", time_budget=budget, n_jobs=1, seed=0,
        eval_method="cv", n_splits=5, verbose=0,
    )  # fmt: skip
    np.save(dst, automl.predict_proba(d["xt"]))
    print(automl.best_estimator, file=sys.stderr)


if __name__ == "__main__":
    main()
