"""AutoML modelling over HTTP: an anomaly detector without a target runs, registers-ready, with its
report; the new config fields are checked by field (target, contamination, sensitive_column); and
resume answers 409 for a completed experiment, 202 for a cancelled one."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("optuna")


def _table() -> bytes:
    rng = np.random.default_rng(4)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for k in range(60):
        a, b = rng.normal(size=2) + (5 if k % 15 == 0 else 0)
        w.writerow([f"{a:.3f}", f"{b:.3f}", int(a > 0)])
    return buf.getvalue().encode()


def _wait(api: Any, exp_id: str, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"experiment {exp_id} did not finish")


def test_anomaly_and_the_new_fields_over_http(api: Any) -> None:
    pid = api.project("automl-modelling")
    upload = {"file": ("t.csv", _table(), "text/csv")}
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files=upload, data={"project_id": pid, "name": "t"}
    )
    assert r.status_code == 201, r.text
    ds = r.json()["id"]
    base = {"project_id": pid, "objective": "auc", "dataset_id": ds}

    def create(**body: Any) -> Any:
        return api.client.post("/v1/experiments", headers=api.admin, json={**base, **body})

    bad = [
        (create(task_type="classification"), "target"),
        (create(task_type="anomaly", config={"contamination": 0.9}), "config.contamination"),
        (create(task_type="classification", target="y",
                config={"sensitive_column": "x"}), "config.sensitive_column"),
    ]  # fmt: skip
    for resp, field in bad:
        assert resp.status_code == 422, resp.text
        fields = [d["field"].removeprefix("body.") for d in resp.json()["error"]["details"]]
        assert field in fields, resp.text

    r = create(task_type="anomaly", config={"contamination": 0.1})
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    exp = _wait(api, exp_id)
    assert exp["status"] == "completed", exp
    assert exp["report"]["trial_id"] == exp["best"]["trial_id"]
    board = api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()
    assert board["trials"][0]["model"] == "isolation_forest"
    r = api.client.post(f"/v1/experiments/{exp_id}/resume", headers=api.admin)
    assert r.status_code == 409 and r.json()["error"]["details"][0]["field"] == "experiment_id"

    r = create(
        task_type="classification",
        target="y",
        config={"hpo": {"trials": 2}, "models": ["logistic_regression"]},
    )
    created = r.json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{created}/cancel", headers=api.admin).status_code == 200
    r = api.client.post(f"/v1/experiments/{created}/resume", headers=api.admin)
    assert r.status_code == 202, r.text
    done = _wait(api, created)
    assert done["status"] == "completed" and done["resumes"] == 1
