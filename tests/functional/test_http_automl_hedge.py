"""The small table's hedge over HTTP (optiloop.automl.search.hedge): the leaderboard answers it in
place of the pick it hedges, its trial says which, it registers, deploys and predicts like any
winner; `config.ensemble.hedge: false` turns it off and the config says so."""

from __future__ import annotations

import csv
import io
import math
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("optuna")


def _table(rows: int = 150) -> bytes:
    """Classes from a curved boundary: boosted trees beat the linear model on it, so the pick is
    not linear (the gate is opened in the test: what is checked here is the wiring)."""
    rng = np.random.default_rng(7)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for _ in range(rows):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", "yes" if a + 0.5 * b + 0.8 * (a * a - 1) > 0 else "no"])
    return buf.getvalue().encode()


def _run(api: Any, pid: str, ds: str, **ensemble: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = {
        "project_id": pid, "task_type": "classification", "objective": "logloss", "dataset_id": ds,
        "target": "y",
        "config": {"hpo": {"trials": 6}, "models": ["logistic_regression", "hist_gradient_boosting"],
                   "ensemble": {"method": "none", **ensemble}},
    }  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    end = time.monotonic() + 120
    while time.monotonic() < end:
        exp = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if exp["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert exp["status"] == "completed", exp
    board = api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()
    assert board["selection"]["trial_id"] == board["trials"][0]["trial_id"]
    return exp, board["trials"]


def test_the_hedge_is_the_winner_it_stands_for_and_serves(api: Any, monkeypatch: Any) -> None:
    from optiloop.automl.search import hedge

    monkeypatch.setattr(hedge, "RATIO", math.inf)  # hedge whatever the gap: the wiring, not the gate
    pid = api.project("automl-hedge")
    upload = {"file": ("curve.csv", _table(), "text/csv")}
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files=upload, data={"project_id": pid, "name": "curve"}
    )
    assert r.status_code == 201, r.text
    ds = r.json()["id"]

    exp, trials = _run(api, pid, ds)
    assert exp["config"]["ensemble"] == {"method": "none", "hedge": True}
    top = trials[0]
    assert top["model"] == "hedge" and top["runtime"] == "ensemble"
    hedged = next(t for t in trials if t["number"] == top["hedges"])
    assert hedged["model"] == "hist_gradient_boosting"
    assert top["params"]["ensemble.hedges"] == hedged["number"]
    assert top["params"]["ensemble.anchor"]["model"] == "logistic_regression"
    assert exp["best"]["trial_id"] == top["trial_id"]
    board = api.client.get(f"/v1/experiments/{exp['id']}/leaderboard", headers=api.admin).json()
    assert board["selection"]["hedged_trial_id"] == hedged["trial_id"]
    assert "averaged with the tuned linear model" in board["selection"]["reason"]
    listed = api.client.get(f"/v1/experiments/{exp['id']}/trials", headers=api.admin).json()
    docs = {t["number"]: t for t in listed["items"]}
    assert docs[top["number"]]["hedges"] == hedged["number"] and docs[hedged["number"]]["hedges"] is None
    assert len(docs[top["number"]]["fold_scores"]) == len(docs[hedged["number"]]["fold_scores"])

    model = api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": "c"}).json()
    dep = api.stage(model["id"], top["trial_id"])
    instances = [{"a": 2.0, "b": 0.0}, {"a": -0.3, "b": -0.5}]
    r = api.client.post(f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": instances})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert [p["label"] for p in preds] == ["yes", "no"] and all(0.0 < p["score"] < 1.0 for p in preds)

    off, trials = _run(api, pid, ds, hedge=False)
    assert off["config"]["ensemble"] == {"method": "none", "hedge": False}
    assert all(t["model"] != "hedge" and t.get("hedges") is None for t in trials)
    assert trials[0]["model"] == "hist_gradient_boosting"
