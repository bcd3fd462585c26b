"""Forecasting: features that never see the future, expanding-window folds, the checks that name
their field, the numpy baselines and metrics, and a small search in which the models beat them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl.forecast import instances, prepare_forecast, settings
from optiloop.automl.search.forecasting import (
    ForecastPlan,
    metrics,
    naive,
    scale_of,
    seasonal_naive,
)
from optiloop.automl.search.statistical import STATISTICAL, forecasts
from optiloop.automl.table import Column, Table
from optiloop.errors import InvalidInput


def _col(name: str, values: Any, kind: str = "numeric") -> Column:
    arr = np.asarray(values)
    missing = np.isnan(arr) if kind == "numeric" else np.zeros(arr.size, dtype=bool)
    return Column(name, kind, arr if kind != "numeric" else arr.astype(np.float64), missing)


def _series(n: int = 96, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return np.asarray(20 + 0.2 * t + 4 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, n))


def _table(y: np.ndarray, **extra: Any) -> Table:
    cols = [_col("t", np.arange(y.size)), _col("y", y)]
    cols += [_col(k, v) for k, v in extra.items()]
    return Table(cols)


def _cfg(**kw: Any) -> dict[str, Any]:
    return settings({"time_column": "t", "horizon": 3, "season_length": 12, **kw})


def test_every_lag_is_at_least_the_horizon_and_folds_expand_without_overlap() -> None:
    y = _series()
    p = prepare_forecast(_table(y), "y", _cfg(), 3)
    names = [i.name for i in p.signature.inputs]
    assert [int(n.split("_")[1]) for n in names if n.startswith("lag_")] == [3, 4, 5, 12, 24]
    assert {"rolling_mean_3", "rolling_std_12", "season_position"} <= set(names)
    assert p.x.shape == (y.size - p.warmup, len(names)) and np.all(np.isfinite(p.x))
    sizes = []
    for (tr, va), o in zip(p.folds, p.origins, strict=True):
        assert va.size == 3 and tr.max() < va.min() and tr[0] == 0
        assert tr.max() + p.warmup == o  # trains on every row up to the origin
        sizes.append(tr.size)
    assert sizes == sorted(sizes) and p.origins[-1] == y.size - 4


def test_no_feature_changes_when_the_future_does() -> None:
    """Rewriting every value after an origin o must leave the rows o+1..o+h unchanged."""
    y = _series()
    h = 3
    base = prepare_forecast(_table(y), "y", _cfg(), 3)
    o = 70
    changed = y.copy()
    changed[o + 1 :] += np.random.default_rng(1).normal(0, 50, y.size - o - 1)
    other = prepare_forecast(_table(changed), "y", _cfg(), 3)
    rows = np.arange(o + 1, o + 1 + h) - base.warmup
    np.testing.assert_array_equal(base.x[rows], other.x[rows])
    assert not np.array_equal(base.x[rows + h], other.x[rows + h])  # a step further does see it


def test_future_dated_and_same_time_copies_are_refused_noise_is_kept() -> None:
    y = _series()
    lead = np.r_[y[2:], np.nan, np.nan] * 3 + 1  # the target two steps ahead
    p = prepare_forecast(_table(y, lead=lead, copy=y * 2, noise=np.sin(np.arange(y.size))), "y", _cfg(), 3)
    assert "future-dated" in p.excluded["lead"] and "2 step" in p.excluded["lead"]
    assert p.excluded["copy"].startswith("leaky")
    assert "noise" in [i.name for i in p.signature.inputs]


@pytest.mark.parametrize(
    ("table", "cfg", "field"),
    [
        (Table([_col("t", np.r_[1, 0, np.arange(2, 96)]), _col("y", _series())]), {}, "config.time_column"),
        (Table([_col("t", np.r_[0, 0, np.arange(2, 96)]), _col("y", _series())]), {}, "config.time_column"),
        (_table(_series(40)), {}, "config.horizon"),
        (Table([_col("t", np.arange(96)), _col("y", np.array(["a"] * 96), "categorical")]), {}, "target"),
        (_table(_series()), {"time_column": "when"}, "config.time_column"),
    ],
)
def test_bad_series_name_their_field(table: Table, cfg: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        prepare_forecast(table, "y", _cfg(**cfg), 3)
    assert e.value.details[0]["field"] == field


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"horizon": 3}, "config.time_column"), ({"time_column": "t"}, "config.horizon"),
     ({"time_column": "t", "horizon": 0}, "config.horizon"),
     ({"time_column": "t", "horizon": 2, "season_length": 0}, "config.season_length")],
)  # fmt: skip
def test_settings_name_their_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        settings(raw)
    assert e.value.details[0]["field"] == field


def test_datetime_time_column_gives_calendar_features() -> None:
    days = np.arange("2024-01-01", "2024-04-10", dtype="datetime64[D]").astype(str)
    y = _series(days.size)
    table = Table([_col("day", days, "datetime"), _col("y", y)])
    p = prepare_forecast(table, "y", settings({"time_column": "day", "horizon": 2, "season_length": 7}), 2)
    names = [i.name for i in p.signature.inputs]
    assert {"month", "day_of_week", "day_of_month"} <= set(names) and "hour" not in names
    dow = p.x[:, names.index("day_of_week")]
    assert dow[0] == (np.datetime64(days[p.warmup]).astype(int) + 3) % 7  # 2024-01-01 was a Monday


def test_instances_rebuild_the_training_rows_from_a_history() -> None:
    """What a client builds from a history is exactly what the model was trained on."""
    y = _series()
    p = prepare_forecast(_table(y, noise=np.cos(np.arange(y.size))), "y", _cfg(), 3)
    o = 80
    exo = [{"noise": float(np.float32(np.cos(o + s)))} for s in (1, 2, 3)]
    rows = instances(y[: o + 1], p.recipe, times=[o + 1, o + 2, o + 3], exogenous=exo)
    names = [i.name for i in p.signature.inputs]
    got = np.array([[r[n] for n in names] for r in rows])
    np.testing.assert_array_equal(got, p.x[o + 1 - p.warmup : o + 4 - p.warmup])
    with pytest.raises(ValueError, match="times"):
        instances(y[: o + 1], p.recipe)


def _one(name: str, history: np.ndarray, h: int, m: int) -> np.ndarray:
    """One statistical candidate's forecast, as the search computes it."""
    return forecasts(history, h, m, (name,))[name]


def test_baselines_and_metrics_on_known_series() -> None:
    season = np.tile([1.0, 5.0, 3.0, 2.0], 6)
    np.testing.assert_array_equal(seasonal_naive(season, 6, 4), season[:6])
    np.testing.assert_array_equal(naive(season, 2, 4), [2.0, 2.0])
    assert scale_of(season, 4) == 0.0 and scale_of(np.arange(10.0), 1) == 1.0
    line = np.arange(1.0, 41.0)
    # Theta extrapolates half the fitted trend (the theta=0 line and SES of theta=2, averaged)
    np.testing.assert_allclose(np.diff(_one("theta", line, 3, 1)), [0.5, 0.5])
    assert 40.0 < _one("theta", line, 1, 1)[0] < 41.0
    seasonal = np.tile([1.0, 2.0, 4.0, 1.0], 10) * 10
    np.testing.assert_allclose(_one("theta", seasonal, 4, 4), seasonal[:4], rtol=1e-6)
    assert abs(_one("ses", np.full(20, 7.0), 2, 1)[0] - 7.0) < 1e-12
    m = metrics(np.array([10.0, 20.0]), np.array([12.0, 20.0]), scale=2.0)
    assert m["mase"] == 0.5 and m["mae"] == 1.0 and abs(m["smape"] - 100 * (4 / 22) / 2) < 1e-12
    assert np.isnan(metrics(np.ones(2), np.ones(2), 0.0)["mase"])


def test_the_search_scores_models_and_baselines_on_the_same_folds() -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("optuna")
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import SearchSpec, search

    y = _series(120)
    p = prepare_forecast(_table(y), "y", _cfg(), 3)
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season)
    spec = SearchSpec(
        objective=Objective("mase", "minimize"), trials=2, stratified=False, ensemble=False,
        forecast=plan, families=("linear",),
    )  # fmt: skip
    results = search(p.x, p.y, p.signature, spec)
    by_model = {r.model: r for r in results}
    assert set(by_model) == {"ridge", *STATISTICAL, "combination"}
    for name in (*STATISTICAL, "combination"):  # every statistical candidate serves as a forecast table
        b = by_model[name]
        assert b.family == "baseline" and b.runtime == "forecast" and len(b.fold_scores) == 3
    ridge = by_model["ridge"]
    assert ridge.artifact is not None and ridge.runtime == "linear"
    assert ridge.metrics["mase"] < by_model["naive"].metrics["mase"]
    assert ridge.metrics["mase"] < by_model["seasonal_naive"].metrics["mase"]
    assert [r.number for r in results] == list(range(len(results)))


def test_the_cli_builds_a_forecasting_body_with_mase_by_default() -> None:
    import argparse

    from optiloop.cli.automl import _create_body, add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="cmd"), lambda p: None)
    args = parser.parse_args(
        ["automl", "create", "--project", "p", "--dataset", "d", "--target", "y", "--task-type",
         "forecasting", "--time-column", "day", "--horizon", "7", "--season-length", "7",
         "--series-id", "store"]
    )  # fmt: skip
    body = _create_body(args)
    assert body["objective"] == "mase" and body["task_type"] == "forecasting"
    assert body["config"] == {"time_column": "day", "horizon": 7, "season_length": 7, "series_id": "store"}


def test_integer_steps_typed_as_ids_are_steps_not_years() -> None:
    """Ingest types a 0..n-1 column "id" (strings): it orders the rows as integers, no calendar."""
    y = _series()
    steps = Table([_col("t", np.arange(y.size).astype(str), "id"), _col("y", y)])
    p = prepare_forecast(steps, "y", _cfg(season_length=1), 3)
    assert not {"month", "day_of_week", "day_of_month"} & {i.name for i in p.signature.inputs}
    shuffled = Table([_col("t", np.r_[1, 0, np.arange(2, y.size)].astype(str), "id"), _col("y", y)])
    with pytest.raises(InvalidInput) as e:
        prepare_forecast(shuffled, "y", _cfg(), 3)
    assert "not sorted" in e.value.details[0]["reason"]
    words = Table([_col("t", np.array(["soon"] * y.size), "text"), _col("y", y)])
    with pytest.raises(InvalidInput, match="neither a datetime nor integers"):
        prepare_forecast(words, "y", _cfg(), 3)


def test_a_resumed_plan_does_not_score_the_baselines_twice_and_ses_is_bounded() -> None:
    pytest.importorskip("optuna")
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import SearchSpec, search

    y = _series(120)
    p = prepare_forecast(_table(y), "y", _cfg(), 3)
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season, baselines=False)
    spec = SearchSpec(objective=Objective("mase", "minimize"), trials=1, stratified=False, ensemble=False,
                      forecast=plan, families=("linear",))  # fmt: skip
    assert [r.family for r in search(p.x, p.y, p.signature, spec)] == ["linear"]
    long = np.r_[np.full(50_000, 1e6), np.full(3000, 5.0)]  # only the recent level matters
    assert abs(_one("ses", long, 1, 1)[0] - 5.0) < 1e-9
