"""Regressions from the REST flow run as an outside evaluator on tables nobody tuned for
(tests/benchmarks/automl_rest_unseen.py; docs/benchmarks.md, "AutoML on unseen tables over REST").
Each test is the smallest table that reproduces what that run hit."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def test_an_infinity_in_an_uploaded_column_is_missing_and_reported(api: Api) -> None:
    """A CSV's `inf` made its whole column categorical, and a Parquet infinity was kept as a value that
    serving then refused: one rule now (`optiloop.models.spellings`), and the report says so."""
    pid = api.project()
    csv = "ratio,y\n" + "".join(f"{'inf' if i == 3 else i * 0.5},{i % 2}\n" for i in range(12))
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        data={"project_id": pid, "name": "ratios"},
        files={"file": ("t.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert {c["name"]: c["type"] for c in body["schema"]}["ratio"] == "numeric"
    ratio = next(c for c in body["report"]["columns"] if c["name"] == "ratio")
    assert ratio["missing"] == 1 and ratio["max"] == 5.5
    assert {"column": "ratio", "kind": "non_finite", "reason": "1 infinite values read as missing"} in body[
        "report"
    ]["warnings"]


def test_a_timestamp_column_is_learnt_from_and_served_from_its_raw_value(api: Api) -> None:
    """Datetime columns were left out ("not features yet": nycflights13's time_hour, Chicago's date,
    covid's collection dates). Now their parts are features, and a deployed model reads the raw
    timestamp from the request (optiloop.models.dateparts)."""
    import random
    from datetime import datetime, timedelta

    rng = random.Random(0)
    start = datetime(2024, 1, 1)
    rows = []
    for _ in range(240):
        t = start + timedelta(hours=rng.randrange(24 * 120))
        y = 10.0 * (t.weekday() >= 5) + t.hour / 2 + rng.gauss(0, 0.3)
        rows.append(f"{t.isoformat()}Z,{rng.random():.3f},{y:.3f}")
    csv = "at,noise,load\n" + "\n".join(rows) + "\n"
    pid = api.project()
    r = api.client.post("/v1/datasets/ingest", headers=api.admin, data={"project_id": pid, "name": "load"},
                        files={"file": ("load.csv", csv.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 201, r.text
    body = {"project_id": pid, "task_type": "regression", "objective": "rmse", "dataset_id": r.json()["id"],
            "target": "load", "config": {"cv": {"folds": 3}, "hpo": {"trials": 3, "warm_start": 0},
                                         "models": ["xgboost"], "budget_s": 60}}  # fmt: skip
    exp = api.client.post("/v1/experiments", headers=api.admin, json=body).json()
    assert (
        api.client.post(f"/v1/experiments/{exp['experiment_id']}/run", headers=api.admin).status_code == 202
    )
    done = _wait(api, exp["experiment_id"])
    assert done["status"] == "completed", done.get("error")
    assert {"at.weekday", "at.hour", "at.days"} <= set(done["features"]) and "at" not in done["excluded"]
    winner = next(t for t in done_board(api, exp["experiment_id"]) if t["model"] != "ensemble")
    model = api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": "load"}).json()
    version = api.client.post(f"/v1/models/{model['id']}/versions", headers=api.admin,
                              json={"trial_id": winner["trial_id"]}).json()  # fmt: skip
    staging = {"model_version_id": version["id"], "environment": "staging"}
    dep = api.client.post("/v1/deployments", headers=api.admin, json=staging).json()
    ask = [{"at": "2024-06-08T20:00:00Z", "noise": 0.5},  # a Saturday evening: 10 + 10
           {"at": "2024-06-05T02:00:00+00:00", "noise": 0.5}]  # a Wednesday night: 1  # fmt: skip
    r = api.client.post(f"/v1/inference/{dep['id']}:predict", headers=api.admin, json={"instances": ask})
    assert r.status_code == 200, r.text
    saturday, wednesday = (p["value"] for p in r.json()["predictions"])
    assert saturday > 15 and wednesday < 5, (saturday, wednesday)
    r = api.client.post(f"/v1/inference/{dep['id']}:predict", headers=api.admin,
                        json={"instances": [{"at": "next saturday", "noise": 0.5}]})  # fmt: skip
    assert r.status_code == 422 and api.error_fields(r) == ["instances[0].at"], r.text


def test_a_european_spreadsheet_export_is_learnt_from_and_served_from_its_raw_cells(api: Api) -> None:
    """A semicolon file in Windows-1252 with decimal commas and day-first dates (what Excel writes in
    Germany): the upload was refused ("not UTF-8"), and once re-encoded every number and date column
    was a categorical of hundreds of strings, left out. Now they are numbers and dates, the schema
    says how each was written, and a deployed model reads a row sent back as it sat in the file."""
    import random

    rng = random.Random(3)
    lines = ["Datum;Umsatz;Rabatt;Größe;Kündigt"]
    for k in range(200):
        umsatz, rabatt = rng.uniform(100, 5000), rng.uniform(0, 30)
        churn = "ja" if umsatz < 1500 + 40 * rabatt + rng.gauss(0, 300) else "nein"
        umsatz_s = f"{umsatz:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")  # 1.234,56
        rabatt_s = f"{rabatt:.1f}".replace(".", ",")
        size = "groß" if k % 2 else "klein"
        lines.append(f"{1 + k % 28:02d}.{1 + k % 12:02d}.2024;{umsatz_s} €;{rabatt_s} %;{size};{churn}")
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    pid = api.project()
    r = api.client.post("/v1/datasets/ingest", headers=api.admin, data={"project_id": pid, "name": "kunden"},
                        files={"file": ("kunden.csv", data, "text/csv")})  # fmt: skip
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["source"]["encoding"] == "windows-1252" and ds["source"]["delimiter"] == ";"
    schema = {c["name"]: (c["type"], c.get("format", "")) for c in ds["schema"]}
    assert schema == {"Datum": ("datetime", "%d.%m.%Y"), "Umsatz": ("numeric", "1.234,5"),
                      "Rabatt": ("numeric", "1.234,5"), "Größe": ("categorical", ""),
                      "Kündigt": ("categorical", "")}  # fmt: skip
    body = {"project_id": pid, "task_type": "classification", "objective": "logloss", "dataset_id": ds["id"],
            "target": "Kündigt", "config": {"cv": {"folds": 3}, "hpo": {"trials": 2, "warm_start": 0},
                                            "models": ["linear"], "budget_s": 60}}  # fmt: skip
    exp = api.client.post("/v1/experiments", headers=api.admin, json=body).json()
    assert {"Umsatz", "Rabatt", "Größe"} <= set(exp["features"]), exp["excluded"]
    assert (
        api.client.post(f"/v1/experiments/{exp['experiment_id']}/run", headers=api.admin).status_code == 202
    )
    done = _wait(api, exp["experiment_id"])
    assert done["status"] == "completed", done.get("error")
    winner = done_board(api, exp["experiment_id"])[0]
    model = api.client.post(
        "/v1/models", headers=api.admin, json={"project_id": pid, "name": "kunden"}
    ).json()
    version = api.client.post(f"/v1/models/{model['id']}/versions", headers=api.admin,
                              json={"trial_id": winner["trial_id"]}).json()  # fmt: skip
    staging = {"model_version_id": version["id"], "environment": "staging"}
    dep = api.client.post("/v1/deployments", headers=api.admin, json=staging).json()
    header = lines[0].split(";")
    as_sent = [dict(zip(header, line.split(";"), strict=True)) for line in lines[1:41]]
    r = api.client.post(f"/v1/inference/{dep['id']}:predict", headers=api.admin, json={"instances": as_sent})
    assert r.status_code == 200, r.text
    predicted = [p["label"] for p in r.json()["predictions"]]
    actual = [row["Kündigt"] for row in as_sent]
    assert sum(p == a for p, a in zip(predicted, actual, strict=True)) >= 32, (predicted, actual)
    r = api.client.post(f"/v1/inference/{dep['id']}:predict", headers=api.admin,
                        json={"instances": [{**as_sent[0], "Umsatz": "viel"}]})  # fmt: skip
    assert r.status_code == 422 and api.error_fields(r) == ["instances[0].Umsatz"], r.text


def _wait(api: Api, exp_id: str, timeout: float = 120) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        exp = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if exp["status"] in ("completed", "failed", "cancelled"):
            return exp
        time.sleep(0.1)
    raise AssertionError(f"experiment {exp_id} did not finish in {timeout} s")


def done_board(api: Api, exp_id: str) -> list[dict[str, Any]]:
    return api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()["trials"]
