"""The trials a search runs before its sampler (`search.runner.enqueue_first_trials`), from the REST
flow on unseen tables: the fast single models first, and a linear model close to the prior, so that a
short budget or a table of noise never leaves a winner worse than knowing nothing."""

from __future__ import annotations

import math

import numpy as np

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective
from optiloop.automl.search.runner import SearchSpec, rank, search


def test_on_noise_the_winner_is_no_worse_than_the_class_prior() -> None:
    """MASS survey (190 rows, a 4-class target the features do not predict): every trial and the
    ensemble were worse than the prior in CV, and the winner held out (logloss 1.005 vs 0.828)."""
    rng = np.random.default_rng(3)
    n = 150
    raw = {f"x{j}": list(rng.normal(size=n)) for j in range(6)}
    raw["y"] = list(rng.choice(["never", "heavy", "occasional"], size=n, p=[0.8, 0.1, 0.1]))
    prep = prepare(infer_table(raw), "y", "classification")
    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=3, trials=4, pruner="none",
                      families=("linear", "extra_trees"))  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec, refit=False)
    assert [r.params for r in results[:2]] == [{"linear.C": 1.0}, {"linear.C": 1e-3}]
    # enqueued (linear defaults, its shrunk point, extra trees' defaults): prior; the 4th, sampled, not
    assert [r.prior for r in results] == [True, True, True, False]
    prior = np.bincount(prep.y) / prep.y.size
    prior_logloss = -float(np.mean(np.log(prior[prep.y])))
    best = rank(results, spec.objective)[0]
    assert best.metrics["logloss"] <= prior_logloss + 0.02, (
        best.model,
        best.metrics["logloss"],
        prior_logloss,
    )
    assert math.isfinite(best.metrics["logloss"])


def test_the_statistical_forecasters_are_scored_after_the_time_budget_ends() -> None:
    """40 M1 monthly series, `budget_s: 30`: the budget ended inside the model trials, the baselines
    were skipped, and the winner (a global extra-trees) lost to the seasonal naive forecast held out."""
    from optiloop.automl.forecast import prepare_forecast
    from optiloop.automl.search.forecasting import ForecastPlan
    from optiloop.automl.search.statistical import STATISTICAL
    from optiloop.automl.table import Column, Table

    t = np.arange(96, dtype=np.float64)
    y = 100 + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 1, t.size)
    none = np.zeros(t.size, dtype=bool)
    table = Table([Column("t", "numeric", t, none), Column("y", "numeric", y, none)])
    p = prepare_forecast(table, "y", {"time_column": "t", "horizon": 6, "season_length": 12}, 3)
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season)
    spec = SearchSpec(objective=Objective("mase", "minimize"), trials=5, stratified=False, ensemble=False,
                      forecast=plan, families=("linear",), budget_s=1e-9)  # fmt: skip
    results = search(p.x, p.y, p.signature, spec)
    assert {r.model for r in results if r.status == "completed"} >= {*STATISTICAL, "combination"}
