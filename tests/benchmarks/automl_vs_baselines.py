"""AutoML against single models at the same budget: held-out scores on breast_cancer, wine, digits.

Outer 5-fold stratified CV (seed 0). In each outer fold every system sees the same training rows and
is scored on the same held-out rows:

- optiloop: the AutoML search (`optiloop.automl.search.runner.search`: seeded TPE over the whole
  portfolio, inner 5-fold CV, ASHA pruning across folds) with `--budget-s` seconds, its best trial
  refitted on the training rows and scored *through its exported artifact* (the numpy runtime the
  predict path uses);
- logreg: the same search restricted to logistic regression on scaled inputs (C tuned), same budget;
- xgboost: XGBoost with its defaults; random_forest: scikit-learn's defaults (single fits);
- flaml: FLAML (`--flaml-python`, a Python of a separate environment with `flaml[automl]`) with the
  same time budget, log_loss, 5-fold CV, one job, seed 0 (tests/benchmarks/flaml_runner.py).

The optiloop search includes the PyTorch MLP and ends with its greedy ensemble of the top trials as
one more candidate; the best by inner-CV logloss (an ensemble or a single trial) is what is scored.
Each cell is the mean over outer folds ± its standard error. Threads are capped at 1
(OMP_WAIT_POLICY=PASSIVE), as in the worker.

usage: OMP_WAIT_POLICY=PASSIVE python tests/benchmarks/automl_vs_baselines.py \
    [--budget-s 60] [--outer-folds 5] [--datasets breast_cancer,wine,digits] [--flaml-python PATH]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.runner import SearchSpec, rank, search
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact

SYSTEMS = ("optiloop", "logreg", "xgboost", "random_forest")
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flaml_runner.py")


def load(name: str) -> tuple[np.ndarray, np.ndarray, Any]:
    from sklearn import datasets

    d = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
    }[name]()
    raw: dict[str, list[Any]] = {f"f{j}": [float(v) for v in d.data[:, j]] for j in range(d.data.shape[1])}
    raw["target"] = [int(v) for v in d.target]
    prep = prepare(infer_table(raw), "target", "classification")
    return prep.x, prep.y, prep


def best_outputs(
    x: np.ndarray, y: np.ndarray, xt: np.ndarray, prep: Any, spec: SearchSpec
) -> tuple[np.ndarray, str]:
    sig = prep.signature
    # the signature's inputs follow the columns of this outer fold's table (constant columns of digits
    # are excluded by `prepare` on the whole table, the same for every system)
    results = search(x, y, sig, spec)
    best = rank(results, spec.objective)[0]
    assert best.artifact is not None
    predictor = runtimes.load(read_artifact(best.artifact))
    return predictor.predict(xt), best.model


def single(kind: str, x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str) -> np.ndarray:
    if kind == "xgboost":
        import xgboost as xgb

        est: Any = xgb.XGBClassifier(n_jobs=1, random_state=0)
    else:
        from sklearn.ensemble import RandomForestClassifier

        est = RandomForestClassifier(n_jobs=1, random_state=0)
    p = est.fit(x, y).predict_proba(xt)
    return p[:, 1:2] if task == "binary" else p


def flaml(
    python: str, x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str, budget: float
) -> tuple[np.ndarray, str]:
    """FLAML at the same budget, in its own environment (tests/benchmarks/flaml_runner.py)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npy")
        np.savez(src, x=x, y=y, xt=xt)
        done = subprocess.run(
            [python, RUNNER, src, dst, str(budget)], capture_output=True, text=True, check=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
        p = np.load(dst)
    return (p[:, 1:2] if task == "binary" else p), done.stderr.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget-s", type=float, default=60.0)
    ap.add_argument("--outer-folds", type=int, default=5)
    ap.add_argument("--datasets", default="breast_cancer,wine,digits")
    ap.add_argument("--flaml-python", default=None, help="a Python with flaml[automl] installed")
    args = ap.parse_args()
    systems = SYSTEMS + (("flaml",) if args.flaml_python else ())
    from sklearn.model_selection import StratifiedKFold

    print(f"budget {args.budget_s:g} s per search, {args.outer_folds}-fold outer CV, 1 thread per fit")
    print(f"{'dataset':14} {'system':14} {'logloss':>16} {'auc':>16} {'accuracy':>16}  winners")
    for name in args.datasets.split(","):
        x, y, prep = load(name)
        task, k = prep.task, len(prep.signature.classes)
        scores: dict[str, list[dict[str, float]]] = {s: [] for s in systems}
        winners: list[str] = []
        flaml_winners: list[str] = []
        outer = StratifiedKFold(n_splits=args.outer_folds, shuffle=True, random_state=0)
        for tr, te in outer.split(x, y):
            obj = Objective("logloss", "minimize")
            spec = SearchSpec(objective=obj, folds=5, seed=0, trials=10_000, budget_s=args.budget_s)
            out, model = best_outputs(x[tr], y[tr], x[te], prep, spec)
            winners.append(model)
            scores["optiloop"].append(mx.compute(y[te], out, task, k))
            lr_spec = SearchSpec(
                objective=obj, folds=5, seed=0, trials=200, budget_s=args.budget_s, families=("linear",)
            )
            out, _ = best_outputs(x[tr], y[tr], x[te], prep, lr_spec)
            scores["logreg"].append(mx.compute(y[te], out, task, k))
            for s in ("xgboost", "random_forest"):
                scores[s].append(mx.compute(y[te], single(s, x[tr], y[tr], x[te], task), task, k))
            if args.flaml_python:
                out, model = flaml(args.flaml_python, x[tr], y[tr], x[te], task, args.budget_s)
                scores["flaml"].append(mx.compute(y[te], out, task, k))
                flaml_winners.append(model)
        for s in systems:
            cells = []
            for m in ("logloss", "auc", "accuracy"):
                v = np.array([f[m] for f in scores[s]])
                cells.append(f"{v.mean():.4f} ± {v.std(ddof=1) / np.sqrt(v.size):.4f}")
            picks = {"optiloop": winners, "flaml": flaml_winners}.get(s, [])
            extra = ",".join(sorted(set(picks)))
            print(f"{name:14} {s:14} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}  {extra}", flush=True)


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total {time.time() - t0:.0f} s")
