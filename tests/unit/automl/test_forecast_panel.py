"""Forecasting beyond one model per series: ETS chosen by AICc, the statistical candidates and
their combinations, the seasonality test, intervals from cross-validation errors, several series in
one table (config.series_id) with a global model across them, and the forecast tables that serve
every one of them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl.forecast import prepare_forecast, settings
from optiloop.automl.search import ets
from optiloop.automl.search.forecasting import ForecastPlan, seasonal
from optiloop.automl.search.statistical import STATISTICAL, forecasts
from optiloop.automl.table import Column, Table
from optiloop.errors import InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact

pytest.importorskip("scipy")


def _col(name: str, values: Any, kind: str = "numeric") -> Column:
    arr = np.asarray(values)
    if kind == "numeric":
        return Column(name, kind, arr.astype(np.float64), np.isnan(arr.astype(np.float64)))
    return Column(name, kind, arr.astype(str), np.zeros(arr.size, dtype=bool))


def _panel(lengths: tuple[int, ...] = (60, 48, 72), seed: int = 0) -> tuple[Table, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    ids, ts, ys, series = [], [], [], []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        y = (10 ** (k + 1)) * (5 + 0.05 * t + np.sin(2 * np.pi * t / 12)) * (1 + rng.normal(0, 0.01, n))
        series.append(y)
        ids += [f"s{k}"] * n
        ts.append(t)
        ys.append(y)
    table = Table([_col("store", np.array(ids), "categorical"), _col("t", np.concatenate(ts)),
                   _col("sales", np.concatenate(ys))])  # fmt: skip
    return table, series


def _cfg(**kw: Any) -> dict[str, Any]:
    return settings({"time_column": "t", "horizon": 6, "season_length": 12, "series_id": "store", **kw})


def test_ets_recovers_a_trend_and_aicc_prefers_no_trend_on_a_level() -> None:
    rng = np.random.default_rng(1)
    line = 3.0 * np.arange(80) + 100 + rng.normal(0, 0.5, 80)
    fit = ets.auto(line)
    assert fit.model in ("AAN", "AAdN")
    np.testing.assert_allclose(np.diff(ets.fit(line, "AAN").forecast(4)), 3.0, atol=0.2)
    level = 50 + rng.normal(0, 1, 80)
    assert ets.auto(level).model == "ANN"
    damped = ets.fit(line, "AAdN")
    assert 0.8 <= damped.phi <= 0.98 and np.all(np.diff(np.diff(damped.forecast(10))) < 0)


def test_the_seasonality_test_and_the_combinations() -> None:
    t = np.arange(96)
    season = 100 + 20 * np.sin(2 * np.pi * t / 12)
    assert seasonal(season, 12) and not seasonal(100 + np.random.default_rng(0).normal(0, 1, 96), 12)
    fc = forecasts(season, 12, 12)
    assert set(fc) == set(STATISTICAL)
    np.testing.assert_allclose(fc["theta"], season[:12], rtol=0.02)  # the season carried forward
    comb = fc["comb"]
    parts = forecasts(season, 12, 12, ("damped",))["damped"]
    assert comb.shape == (12,) and np.all(np.isfinite(comb)) and np.allclose(parts, fc["damped"])
    stack = np.vstack([fc["ets"], fc["theta"], fc["damped"]])
    np.testing.assert_allclose(fc["ets_theta_damped"], np.median(stack, axis=0))
    assert set(forecasts(np.array([1.0, 2.0]), 3, 12)["ets"]) == {2.0}  # too short: naive


def test_a_panel_has_pooled_normalised_rows_and_per_series_folds() -> None:
    table, series = _panel()
    p = prepare_forecast(table, "sales", _cfg(), 2)
    assert p.panel is not None and p.panel.ids == ["s0", "s1", "s2"]
    # normalised: the three series' scales (x10, x100, x1000) are gone from the features
    assert np.all(np.abs(p.x) < 10) and np.all(np.abs(p.y) < 10)
    for j, (tr, va) in enumerate(p.folds):
        for s, v in enumerate(series):
            o = v.size - (2 - j) * 6 - 1
            rows = va[p.panel.row_series[va] == s]
            assert list(p.panel.row_t[rows]) == list(range(o + 1, o + 7))
            assert p.panel.row_t[tr][p.panel.row_series[tr] == s].max() == o
    assert p.panel.future_ok.all() and "store" not in p.excluded


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        ({"series_id": "nope"}, "config.series_id"),
        ({"series_id": "sales"}, "config.series_id"),
        ({"horizon": 30}, "config.series_id"),
    ],
)
def test_bad_panels_name_their_field(cfg: dict[str, Any], field: str) -> None:
    table, _ = _panel()
    with pytest.raises(InvalidInput) as e:
        prepare_forecast(table, "sales", _cfg(**cfg), 2)
    assert e.value.details[0]["field"] == field


def test_unsorted_series_are_refused_by_name() -> None:
    table, _ = _panel((30, 30))
    t = table.column("t")
    assert t is not None
    t.values[[0, 1]] = t.values[[1, 0]]
    with pytest.raises(InvalidInput, match="series 's0' has times not sorted"):
        prepare_forecast(table, "sales", _cfg(horizon=3), 2)


def test_the_search_over_a_panel_serves_every_candidate_as_a_forecast_table() -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("optuna")
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import SearchSpec, search

    table, series = _panel()
    p = prepare_forecast(table, "sales", _cfg(), 2)
    plan = ForecastPlan(p.series, p.folds, p.origins, p.horizon, p.season, panel=p.panel)
    spec = SearchSpec(objective=Objective("smape", "minimize"), trials=1, stratified=False, ensemble=False,
                      forecast=plan, families=("linear",))  # fmt: skip
    results = search(p.x, p.y, p.signature, spec, fingerprint="sha256:x")
    by_model = {r.model: r for r in results}
    assert set(by_model) == {"ridge", *STATISTICAL, "combination"}
    for r in results:
        assert r.status == "completed" and r.runtime == "forecast" and r.artifact is not None, r.error
        assert len(r.fold_scores) == 2 and r.metrics["smape"] < 30
    assert by_model["comb"].metrics["smape"] < by_model["naive"].metrics["smape"]
    # the combination: the mean of the three best candidates by CV, served like them
    combo = by_model["combination"]
    best3 = sorted((r for r in results if r.model != "combination"), key=lambda r: r.metrics["smape"])[:3]
    assert [m["number"] for m in combo.params["combination.members"]] == [r.number for r in best3]
    step1 = [{"series_id": "s1", "step": 1}]

    def first(r: Any) -> float:
        art = read_artifact(r.artifact or b"")
        return float(runtimes.load(art).predict(art.signature.encode(step1))[0, 0])

    assert first(combo) == pytest.approx(np.mean([first(r) for r in best3]))
    art = read_artifact(by_model["comb"].artifact or b"")
    model = runtimes.load(art)
    x = art.signature.encode([{"series_id": "s2", "step": 1}, {"series_id": "s0", "step": 6}])
    got = model.predict(x)[:, 0]
    np.testing.assert_allclose(got, [plan.stats(2, 2)["comb"][0], plan.stats(0, 2)["comb"][5]])
    bounds = runtimes.intervals(model, x)
    assert bounds is not None
    lo80, hi80 = bounds[1]["80"]
    lo95, hi95 = bounds[1]["95"]
    assert lo95 <= lo80 < got[1] < hi80 <= hi95
    # the global model forecasts every series from its end, denormalised to the series' scale
    ridge = runtimes.load(read_artifact(by_model["ridge"].artifact or b""))
    end = ridge.predict(art.signature.encode([{"series_id": f"s{s}", "step": 1} for s in range(3)]))[:, 0]
    for s, v in enumerate(series):
        assert abs(end[s] - v[-1]) / v[-1] < 0.2
    with pytest.raises(InvalidInput) as e:
        model.predict(art.signature.encode([{"series_id": "s9", "step": 1}, {"series_id": "s0", "step": 7}]))
    assert [d["field"] for d in e.value.details] == ["instances[0].series_id", "instances[1].step"]


def test_a_single_series_baseline_is_servable_with_intervals_that_cover() -> None:
    from optiloop.automl.search.forecasting import metrics

    rng = np.random.default_rng(5)
    y = 100 + np.cumsum(rng.normal(0, 1, 120))
    plan = ForecastPlan(y, [], [y.size - (3 - j) * 8 - 1 for j in range(3)], 8, 1)
    trials = {t.model: t for t in plan.baseline_trials(0, "mase")}
    assert "seasonal_naive" not in trials and trials["ets"].runtime == "forecast"
    art = read_artifact(trials["ets"].artifact or b"")
    assert [i.name for i in art.signature.inputs] == ["step"]
    model = runtimes.load(art)
    x = art.signature.encode([{"step": k} for k in range(1, 9)])
    np.testing.assert_allclose(model.predict(x)[:, 0], plan.stats(0, 3)["ets"])
    assert trials["ets"].metrics["mase"] == pytest.approx(
        np.mean([metrics(plan.truth(0, j), plan.stats(0, j)["ets"], plan.scale(j))["mase"] for j in range(3)])
    )


def test_batch_scoring_a_forecast_table_gives_intervals_and_per_row_errors() -> None:
    import json

    from optiloop.automl.export.forecast_table import build_table
    from optiloop.models.serving.batch import _chunk
    from optiloop.models.serving.cache import Loaded

    mean = np.array([[10.0, 11.0], [20.0, 21.0]])
    errors = [np.array([[1.0, -1.0]]), np.array([[2.0, 2.0]])]
    art = read_artifact(build_table(["a", "b"], mean, errors, params={"model": "theta"}, metrics={},
                                    data_fingerprint="sha256:x", rows=10))  # fmt: skip
    model = Loaded("sha256:y", art.signature, runtimes.load(art))
    lines: list[str] = []
    rows = [
        ("1", {"series_id": "b", "step": 2}),
        ("2", {"series_id": "z", "step": 1}),
        ("3", {"series_id": "a", "step": 1}),
    ]
    assert _chunk(model, rows, lines) == 1  # the unknown series is one row's error, not the batch's
    got = [json.loads(line) for line in lines]
    assert got[0]["prediction"]["value"] == 21.0 and got[0]["prediction"]["interval"]["95"][0] < 21.0
    assert got[1]["error"]["field"] == "input.series_id"
    assert got[2]["prediction"] == {"series_id": "a", "step": 1, "value": 10.0,
                                    "interval": got[2]["prediction"]["interval"]}  # fmt: skip


def test_panel_intervals_pool_the_errors_of_every_series_in_units_of_its_scale() -> None:
    from optiloop.automl.export.forecast_table import panel_widths, widths

    rng = np.random.default_rng(2)
    errors = [rng.normal(0, 1, (2, 6)) * k for k in (1.0, 10.0, 100.0)]
    got = panel_widths(errors, [1.0, 10.0, 100.0], 6)
    # one distribution in scale units: the widths are proportional to each series' scale
    np.testing.assert_allclose(got[1][95], 10 * got[0][95])
    np.testing.assert_allclose(got[2][80], 100 * got[0][80])
    assert np.all(got[0][95] > got[0][80]) and np.allclose(
        got[0][95] / got[0][95][0], np.sqrt(np.arange(1, 7))
    )
    # a series without a scale keeps its own widths
    alone = panel_widths(errors, [1.0, 0.0, 100.0], 6)[1]
    np.testing.assert_allclose(alone[95], widths(errors[1], 6)[95])
