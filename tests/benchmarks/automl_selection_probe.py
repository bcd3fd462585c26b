"""Why a selection rule picks what it picks: one outer fold of tests/benchmarks/automl_vs_baselines.py,
every completed candidate of its search with its inner-CV mean, its per-fold scores, its score on a
FRESH draw of the inner folds (other shuffles, seeds the search never used: every configuration
refitted, an ensemble as its members' fresh predictions mixed), its held-out score (through its
exported artifact, as the benchmark scores the winner) and whether it was `prior` (configured before
the search), then each rule's pick.

The diagnostic behind docs/benchmarks.md "The winner's rule" and "Short budgets on small tables": it
shows the winner's curse directly (the candidate that leads the inner CV, how it scores on folds no
choice was made on, and how it holds out) and lets a rule be judged on the very searches the
benchmark ran (same outer split, seed and trial budget: the same trials). `--dump` writes all of it
as JSON for tests/benchmarks/automl_selection_rules.py, which replays rules over many folds (and
over the first N trials of each search: what a shorter budget would have run).

usage: OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python tests/benchmarks/automl_selection_probe.py \
    penguins 0 [--trials 60] [--inner-folds 5] [--outer-folds 5] [--inner-repeats R]
    [--dump out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import replace
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from automl_vs_baselines import load

from optiloop.automl.objectives import Objective
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.portfolio import FAMILIES
from optiloop.automl.search.runner import (
    SearchSpec,
    TrialResult,
    context_of,
    cv_repeats,
    folds_of,
    rank,
    search,
    stacked,
)
from optiloop.automl.selection import RULES
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact
from optiloop.models.signature import Signature

FRESH_SEED = 1000  # the fresh draw's seeds: cv_seed + FRESH_SEED + r, far from the search's cv_seed + r


def fresh_scores(
    done: list[TrialResult], x: np.ndarray, y: np.ndarray, sig: Signature, spec: SearchSpec
) -> dict[int, list[float]]:
    """Every candidate's objective on each fold of a fresh draw of the search's CV (same k and draws)."""
    task, k, metric = sig.task, len(sig.classes), spec.objective.metric
    ctx = context_of(x, y, sig, spec)
    folds = folds_of(y, replace(spec, cv_seed=spec.cv_seed + FRESH_SEED), task)
    slots = stacked(folds, int(y.size))
    y_s = np.tile(y, cv_repeats(int(y.size), spec.repeats))
    outputs: dict[int, np.ndarray] = {}
    for r in (r for r in done if r.family != "ensemble"):
        out = np.full((y_s.size, sig.n_outputs), np.nan)
        for (tr, va), (_, slot) in zip(folds, slots, strict=True):
            model = FAMILIES[r.family].build(r.params, ctx)
            model.fit(x[tr], y[tr], None)
            out[slot] = model.predict_outputs(x[va])
        outputs[r.number] = out
    for r in (r for r in done if r.family == "ensemble"):
        members = [(int(m["number"]), float(m["weight"])) for m in r.params["ensemble.members"]]
        outputs[r.number] = sum(w * outputs[n] for n, w in members)  # type: ignore[assignment]
    return {n: [mx.compute(y_s[s], o[s], task, k)[metric] for _, s in slots] for n, o in outputs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("fold", type=int, help="the outer fold (0-based)")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--inner-folds", type=int, default=5)
    ap.add_argument("--outer-folds", type=int, default=5)
    ap.add_argument("--inner-repeats", type=int, default=None, help="inner CV draws (default: by size)")
    ap.add_argument("--dump", default=None, help="write every candidate's scores as JSON")
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
                      stratified=not regression, repeats=args.inner_repeats)  # fmt: skip
    results = search(x[tr], y[tr], prep.signature, spec)
    k = len(prep.signature.classes)
    done = [r for r in results if r.status == "completed" and r.artifact is not None]
    held = {}
    for r in done:
        out = runtimes.load(read_artifact(r.artifact or b"")).predict(x[te])
        held[r.number] = mx.compute(y[te], out, prep.task, k)[name]
    fresh = fresh_scores(done, x[tr], y[tr], prep.signature, spec)
    print(f"{args.dataset} outer fold {args.fold}: {len(done)} completed of {len(results)}")
    print(f"{'trial':>5} {'family':24} {'prior':5} {'inner':>8} {'fresh':>8} {'held':>8}  params")
    for r in sorted(done, key=lambda r: r.metrics[name]):
        again = float(np.nanmean(fresh[r.number]))
        params = {p: v for p, v in r.params.items() if not p.startswith("ensemble.")}
        print(f"{r.number:5d} {r.family:24} {r.prior!s:5} {r.metrics[name]:8.4f} {again:8.4f} "
              f"{held[r.number]:8.4f}  {params}")  # fmt: skip
    for rule in RULES:
        w = rank(results, obj, rule, args.inner_folds)[0]
        print(f"{rule:10} picks trial {w.number} ({w.family}): held-out {name} {held[w.number]:.4f}")
    if args.dump:
        # the benchmark's `logreg` baseline: the same search restricted to the linear family, one draw
        lr_spec = replace(spec, families=("linear",), repeats=1, trials=min(args.trials, 200))
        lr = rank(search(x[tr], y[tr], prep.signature, lr_spec), obj, "best_mean")[0]
        out = runtimes.load(read_artifact(lr.artifact or b"")).predict(x[te])
        rows: list[dict[str, Any]] = [
            {"number": r.number, "family": r.family, "prior": r.prior, "inner": r.metrics[name],
             "folds": [None if math.isnan(v) else v for v in r.fold_scores],
             "fresh": [None if math.isnan(v) else v for v in fresh[r.number]], "held": held[r.number]}
            for r in done
        ]  # fmt: skip
        doc = {"dataset": args.dataset, "fold": args.fold, "k": args.inner_folds, "trials": args.trials,
               "rows": rows,
               "logreg": mx.compute(y[te], out, prep.task, k)[name]}  # fmt: skip
        with open(args.dump, "w") as f:
            json.dump(doc, f)


if __name__ == "__main__":
    main()
