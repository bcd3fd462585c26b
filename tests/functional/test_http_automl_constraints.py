"""AutoML constraints over HTTP: a latency bound the better model breaks makes it infeasible — on the
leaderboard after the feasible trials, never the best — the Pareto front shows the trade-off, a
bound nothing meets fails the experiment saying why, and a bad bound is a 422 naming it."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from optiloop.config import Settings

pytest.importorskip("sklearn")
pytest.importorskip("optuna")


@pytest.fixture
def settings() -> Settings:
    return Settings(backend="memory", admin_token="test-admin-token-0123456789", max_body_bytes=512 * 1024)


def _table() -> bytes:
    """A non-linear target: a forest beats ridge by far on it (120 rows, two inputs)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=120), rng.normal(size=120)
    y = np.sin(3 * a) + b * b
    lines = ["a,b,y", *(f"{p:.6f},{q:.6f},{r:.6f}" for p, q, r in zip(a, b, y, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def _experiment(api: Any, pid: str, ds: str, constraints: dict[str, Any]) -> Any:
    body = {
        "project_id": pid, "task_type": "regression", "objective": "rmse", "dataset_id": ds, "target": "y",
        "config": {"cv": {"folds": 3}, "hpo": {"trials": 3, "early_stopping": "none", "warm_start": 0},
                   "models": ["ridge", "random_forest"], "constraints": constraints},
    }  # fmt: skip
    return api.client.post("/v1/experiments", headers=api.admin, json=body)


def _run(api: Any, exp_id: str) -> dict[str, Any]:
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    end = time.monotonic() + 60
    while time.monotonic() < end:
        exp = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if exp["status"] in ("completed", "failed", "cancelled"):
            return dict(exp)
        time.sleep(0.1)
    raise AssertionError("the experiment did not finish")


def test_constraints_rank_mark_and_front(api: Any) -> None:
    pid = api.project("constraints")
    upload = {"file": ("t.csv", _table(), "text/csv")}
    form = {"project_id": pid, "name": "t"}
    r = api.client.post("/v1/datasets/ingest", headers=api.admin, files=upload, data=form)
    assert r.status_code == 201, r.text
    ds = r.json()["id"]

    bad = _experiment(api, pid, ds, {"p99_ms": 3})
    assert bad.status_code == 422 and "config.constraints.p99_ms" in bad.text, bad.text
    bad = _experiment(api, pid, ds, {"latency_ms_p95": -1})
    assert bad.status_code == 422 and "latency_ms_p95" in bad.text, bad.text

    r = _experiment(api, pid, ds, {"latency_ms_p95": 0.05, "model_size_bytes": 10_000_000})
    assert r.status_code == 201, r.text
    created = r.json()
    assert not any("not enforced" in w for w in created["warnings"])
    exp = _run(api, created["experiment_id"])
    assert exp["status"] == "completed", exp
    assert exp["config"]["constraints"] == {"latency_ms_p95": 0.05, "model_size_bytes": 10_000_000.0}

    board = api.client.get(f"/v1/experiments/{exp['id']}/leaderboard", headers=api.admin).json()
    rows = board["trials"]
    assert board["constraints"] == {"latency_ms_p95": 0.05, "model_size_bytes": 10_000_000.0}
    flags = [t["feasible"] for t in rows]
    assert flags == sorted(flags, reverse=True) and True in flags and False in flags  # feasible first
    forest = next(t for t in rows if t["model"] == "random_forest")
    assert not forest["feasible"] and forest["violations"][0].startswith("latency_ms_p95")
    assert forest["cost"]["latency_ms_p95"] > 0.05 and forest["cost"]["model_size_bytes"] > 0
    best_feasible = min(t["metrics"]["rmse"] for t in rows if t["feasible"])
    assert forest["metrics"]["rmse"] < best_feasible  # the more accurate model, and still not the winner
    assert exp["best"]["trial_id"] == rows[0]["trial_id"] and rows[0]["feasible"]
    for t in rows:
        if t["model"] == "ensemble":
            members = {m["number"] for m in t["params"]["ensemble.members"]}
            assert forest["number"] not in members

    front = board["pareto"]
    assert front["x"] == "latency_ms_p95" and front["y"] == "rmse"
    lat = [p["latency_ms_p95"] for p in front["trials"]]
    err = [p["rmse"] for p in front["trials"]]
    assert lat == sorted(lat) and err == sorted(err, reverse=True)  # each step slower buys accuracy
    assert forest["trial_id"] in {p["trial_id"] for p in front["trials"]}
    assert {t["trial_id"] for t in rows if t["pareto"]} == {p["trial_id"] for p in front["trials"]}

    # nothing meets a bound this tight: no winner, and the experiment says why
    r = _experiment(api, pid, ds, {"model_size_bytes": 10})
    exp = _run(api, r.json()["experiment_id"])
    assert exp["status"] == "failed" and "meets the constraints (model_size_bytes <= 10)" in exp["error"]
    assert exp["best"] is None
    board = api.client.get(f"/v1/experiments/{exp['id']}/leaderboard", headers=api.admin).json()
    assert board["trials"] and not any(t["feasible"] for t in board["trials"])
    assert all(math.isfinite(t["cost"]["model_size_bytes"]) for t in board["trials"])
