"""Forecasting over HTTP: a daily series with a date column is searched on expanding-window folds
(MASE), the statistical candidates are on the leaderboard and register as forecast tables, and the best
model-based trial registers, deploys and forecasts through POST /v1/inference from instances that
`optiloop.automl.forecast.instances` builds out of the history; bad configs name their field."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("optuna")

from optiloop.automl.search.statistical import STATISTICAL

N = 150


def _series() -> tuple[np.ndarray, np.ndarray]:
    days = np.datetime64("2024-01-01") + np.arange(N)
    t = np.arange(N)
    y = 50 + 0.3 * t + 8 * ((t % 7) >= 5) + np.random.default_rng(3).normal(0, 0.5, N)
    return days.astype(str), np.round(y, 3)


def _csv(days: np.ndarray, y: np.ndarray, *, shuffle: bool = False) -> bytes:
    order = np.random.default_rng(0).permutation(N) if shuffle else np.arange(N)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["day", "sales", "promo_next_day"])
    for k in order:
        w.writerow([days[k], y[k], y[k + 1] * 2 if k + 1 < N else ""])
    return buf.getvalue().encode()


def _wait(api: Any, exp_id: str, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"experiment {exp_id} did not finish")


def test_forecasting_searches_registers_and_serves(api: Any) -> None:
    from optiloop.automl.forecast import instances

    pid = api.project("automl-forecasting")
    days, y = _series()

    def ingest(data: bytes, name: str) -> str:
        files = {"file": (f"{name}.csv", data, "text/csv")}
        r = api.client.post(
            "/v1/datasets/ingest", headers=api.admin, files=files, data={"project_id": pid, "name": name}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    ds, shuffled = ingest(_csv(days, y), "daily"), ingest(_csv(days, y, shuffle=True), "shuffled")
    base = {"project_id": pid, "task_type": "forecasting", "objective": "mase", "dataset_id": ds,
            "target": "sales"}  # fmt: skip
    good = {"time_column": "day", "horizon": 7, "season_length": 7}

    def create(**body: Any) -> Any:
        return api.client.post("/v1/experiments", headers=api.admin, json={**base, **body})

    bad = [
        (create(config={"horizon": 7}), "config.time_column"),
        (create(config={"time_column": "day"}), "config.horizon"),
        (create(config={**good, "horizon": 60}), "config.horizon"),
        (create(config={**good, "time_column": "sales"}), "config.time_column"),
        (create(dataset_id=shuffled, config=good), "config.time_column"),
        (create(objective="auc", config=good), "objective"),
        (create(target="day", config=good), "target"),
    ]
    for resp, field in bad:
        assert resp.status_code == 422, resp.text
        fields = [d["field"].removeprefix("body.") for d in resp.json()["error"]["details"]]
        assert field in fields, resp.text

    r = create(config={**good, "hpo": {"trials": 3}, "models": ["ridge", "hist_gradient_boosting"]})
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    created = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
    assert created["config"]["cv"] == {"type": "expanding_window", "folds": 3, "seed": 0, "repeats": 1}
    assert "future-dated" in created["excluded"]["promo_next_day"]
    recipe = created["forecast_features"]
    assert recipe["horizon"] == 7 and min(recipe["lags"]) == 7 and "day_of_week" in recipe["calendar"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    exp = _wait(api, exp_id)
    assert exp["status"] == "completed", exp

    board = api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()
    assert board["metric"] == "mase" and board["direction"] == "minimize"
    rows = board["trials"]
    mases = [t["metrics"]["mase"] for t in rows]
    assert mases == sorted(mases)
    models = {t["model"] for t in rows}
    assert {"naive", "seasonal_naive", "ses", "theta"} <= models and "ridge" in models
    assert all({"mase", "smape", "mae", "rmse"} <= set(t["metrics"]) for t in rows)
    ridge = min((t for t in rows if t["model"] == "ridge"), key=lambda t: t["rank"])
    naive = next(t for t in rows if t["model"] == "naive")
    assert ridge["metrics"]["mase"] < naive["metrics"]["mase"]  # trend + weekly cycle: lags win
    assert next(t for t in rows if t["model"] == "theta")["runtime"] == "forecast"  # a forecast table

    model = api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": "fc"}).json()
    r = api.client.post(
        f"/v1/models/{model['id']}/versions", headers=api.admin, json={"trial_id": naive["trial_id"]}
    )
    assert r.status_code == 201, r.text  # a statistical candidate registers as a forecast table
    dep = api.stage(model["id"], ridge["trial_id"])
    origin = N - 8  # forecast the last 7 days from the history before them
    future = list(days[origin + 1 : origin + 8])
    body = {"instances": instances(y[: origin + 1], recipe, times=future)}
    r = api.client.post(f"/v1/inference/{dep}:predict", headers=api.admin, json=body)
    assert r.status_code == 200, r.text
    got = np.array([p["value"] for p in r.json()["predictions"]])
    truth = y[origin + 1 : origin + 8]
    scale = float(np.mean(np.abs(y[7 : origin + 1] - y[: origin + 1 - 7])))
    assert got.shape == (7,) and float(np.mean(np.abs(got - truth))) / scale < 1.0


def test_a_random_walk_is_won_by_a_baseline_whose_report_says_so(api: Any) -> None:
    """Where no feature beats the last value, the leaderboard says so: a baseline wins, and the
    report explains that there is no served model behind it."""
    pid = api.project("automl-forecasting-rw")
    steps = np.random.default_rng(7).normal(0, 1, 80).cumsum() + 100
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["step", "level"])
    for k, v in enumerate(steps):
        w.writerow([k, round(float(v), 4)])
    files = {"file": ("rw.csv", buf.getvalue().encode(), "text/csv")}
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files=files, data={"project_id": pid, "name": "rw"}
    )
    assert r.status_code == 201, r.text
    body = {"project_id": pid, "task_type": "forecasting", "objective": "minimize_mase",
            "dataset_id": r.json()["id"], "target": "level",
            "config": {"time_column": "step", "horizon": 1, "cv": {"type": "expanding_window", "folds": 8},
                       "hpo": {"trials": 1}, "models": ["xgboost"]}}  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    exp = _wait(api, exp_id)
    assert exp["status"] == "completed", exp
    assert exp["best"]["model"] in STATISTICAL, exp["best"]
    assert exp["report"]["permutation_importance"] is None
    assert "forecast table" in exp["report"]["importance_note"]
