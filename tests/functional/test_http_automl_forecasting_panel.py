"""Several series in one table over HTTP: ingest -> experiment (config.series_id, no objective: MASE)
-> leaderboard (statistical candidates, the global model across series and the combination) ->
register the winner -> deploy -> predict {series_id, step} with prediction intervals; bad input
names its field."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("optuna")
pytest.importorskip("scipy")

LENGTHS = {"north": 60, "south": 54, "east": 66}
H = 6


def _csv() -> tuple[bytes, dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["store", "month", "sales"])
    series: dict[str, np.ndarray] = {}
    for k, (store, n) in enumerate(LENGTHS.items()):
        t = np.arange(n)
        y = (100 * (k + 1)) * (3 + 0.02 * t + 0.5 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, n)
        series[store] = np.round(y, 3)
        for i in range(n):
            w.writerow([store, i, series[store][i]])
    return buf.getvalue().encode(), series


def _wait(api: Any, exp_id: str, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"experiment {exp_id} did not finish")


def test_a_multi_series_table_is_searched_registered_deployed_and_served(api: Any) -> None:
    pid = api.project("automl-forecasting-panel")
    data, series = _csv()
    files = {"file": ("stores.csv", data, "text/csv")}
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files=files, data={"project_id": pid, "name": "stores"}
    )
    assert r.status_code == 201, r.text
    ds = r.json()["id"]
    base = {"project_id": pid, "task_type": "forecasting", "dataset_id": ds, "target": "sales"}
    good = {"time_column": "month", "horizon": H, "season_length": 12, "series_id": "store",
            "cv": {"folds": 2}, "hpo": {"trials": 2}, "models": ["ridge"]}  # fmt: skip

    def create(**body: Any) -> Any:
        return api.client.post("/v1/experiments", headers=api.admin, json={**base, **body})

    bad = [
        (create(config={**good, "series_id": "region"}), "config.series_id"),
        (create(config={**good, "series_id": "sales"}), "config.series_id"),
        (create(config={**good, "horizon": 40}), "config.series_id"),  # a series too short for 2 x 40
        (create(objective="auc", config=good), "objective"),
        (create(task_type="regression", config={}), "objective"),  # optional for forecasting only
    ]
    for resp, field in bad:
        assert resp.status_code == 422, resp.text
        fields = [d["field"].removeprefix("body.") for d in resp.json()["error"]["details"]]
        assert field in fields, resp.text

    r = create(config=good)
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    created = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
    assert created["metric"] == "mase" and created["objective"] == "mase"  # the default
    assert created["forecast_features"]["series"] == 3
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    exp = _wait(api, exp_id)
    assert exp["status"] == "completed", exp

    board = api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()
    rows = board["trials"]
    models = {t["model"] for t in rows}
    assert {"ets", "theta", "comb", "combination", "ridge"} <= models, models
    assert all(t["runtime"] == "forecast" for t in rows)
    mases = [t["metrics"]["mase"] for t in rows]
    assert mases == sorted(mases) and mases[0] < 1.0  # beats the seasonal naive one-step MAE
    best = rows[0]

    model = api.client.post(
        "/v1/models", headers=api.admin, json={"project_id": pid, "name": "stores"}
    ).json()
    dep = api.stage(model["id"], best["trial_id"])
    instances = [{"series_id": s, "step": k} for s in LENGTHS for k in (1, H)]
    r = api.client.post(f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": instances})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert [(p["series_id"], p["step"]) for p in preds] == [(i["series_id"], i["step"]) for i in instances]
    for p in preds:
        y = series[p["series_id"]]
        assert abs(p["value"] - y[-12:].mean()) < 0.25 * y[-12:].mean()  # on the series' own scale
        (lo80, hi80), (lo95, hi95) = p["interval"]["80"], p["interval"]["95"]
        assert lo95 <= lo80 <= p["value"] <= hi80 <= hi95
    bad_instances = [{"series_id": "west", "step": 1}, {"series_id": "north", "step": H + 1}]
    r = api.client.post(f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": bad_instances})
    assert r.status_code == 422, r.text
    fields = [d["field"] for d in r.json()["error"]["details"]]
    assert "instances[0].series_id" in fields and "instances[1].step" in fields
