"""Why a selection rule picks what it picks: one outer fold of tests/benchmarks/automl_vs_baselines.py,
every completed candidate of its search with its inner-CV mean, its per-fold scores, its held-out
score (through its exported artifact, as the benchmark scores the winner) and whether it was `prior`
(configured before the search), then each rule's pick.

The diagnostic behind docs/benchmarks.md "The winner's rule": it shows the winner's curse directly
(the candidate that leads the inner CV and how it holds out) and lets a rule be judged on the very
searches the benchmark ran (same outer split, seed and trial budget: the same trials).

usage: OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python tests/benchmarks/automl_selection_probe.py \
    wine 0 [--trials 40] [--inner-folds 5] [--outer-folds 5]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from automl_vs_baselines import load

from optiloop.automl.objectives import Objective
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.runner import SearchSpec, rank, search
from optiloop.automl.selection import RULES
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("fold", type=int, help="the outer fold (0-based)")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--inner-folds", type=int, default=5)
    ap.add_argument("--outer-folds", type=int, default=5)
    args = ap.parse_args()
    from sklearn.model_selection import KFold, StratifiedKFold

    x, y, prep = load(args.dataset)
    regression = prep.task == "regression"
    if regression:
        splits = KFold(n_splits=args.outer_folds, shuffle=True, random_state=0).split(x)
        obj, name = Objective("rmse", "minimize"), "rmse"
    else:
        splits = StratifiedKFold(n_splits=args.outer_folds, shuffle=True, random_state=0).split(x, y)
        obj, name = Objective("logloss", "minimize"), "logloss"
    tr, te = list(splits)[args.fold]
    spec = SearchSpec(objective=obj, folds=args.inner_folds, seed=0, trials=args.trials, budget_s=None,
                      stratified=not regression)  # fmt: skip
    results = search(x[tr], y[tr], prep.signature, spec)
    k = len(prep.signature.classes)
    done = [r for r in results if r.status == "completed" and r.artifact is not None]
    held = {}
    for r in done:
        out = runtimes.load(read_artifact(r.artifact or b"")).predict(x[te])
        held[r.number] = mx.compute(y[te], out, prep.task, k)[name]
    print(f"{args.dataset} outer fold {args.fold}: {len(done)} completed of {len(results)}")
    print(f"{'trial':>5} {'family':24} {'prior':5} {'inner':>8} {'held':>8}  inner folds")
    for r in sorted(done, key=lambda r: r.metrics[name]):
        folds = " ".join(f"{v:.3f}" for v in r.fold_scores)
        inner, out = r.metrics[name], held[r.number]
        print(f"{r.number:5d} {r.family:24} {r.prior!s:5} {inner:8.4f} {out:8.4f}  {folds}")
    for rule in RULES:
        w = rank(results, obj, rule)[0]
        print(f"{rule:10} picks trial {w.number} ({w.family}): held-out {name} {held[w.number]:.4f}")


if __name__ == "__main__":
    main()
