"""Small forecasting and anomaly experiments, and the check that an AWS run of one recorded what the
local worker records (tests/unit/automl/test_search_job.py drives the state machine's steps with the
local trainer; tests/infra/test_infra_automl_run.py executes the synthesized machine in moto)."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments
from optiloop.deps import Deps
from optiloop.store.records import Project

ADMIN = Principal("alice", "admin", None, None)
# what a trial's record holds besides its ids, time and CPU seconds: all of it must match
SAME = ("number", "family", "model", "params", "status", "metrics", "fold_scores", "runtime", "error",
        "artifact_sha256", "artifact_bytes", "export_max_abs_diff", "cost", "feasible",
        "violations")  # fmt: skip


def linear_csv(n: int = 80, seed: int = 7, noise: float = 0.3, b_weight: float = 0.5) -> bytes:
    """Columns a, b (normal) and y = [a + b_weight * b + noise > 0]: a binary task a linear model
    learns."""
    rng = np.random.default_rng(seed)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for _ in range(n):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", int(a + b_weight * b + rng.normal(0, noise) > 0)])
    return buf.getvalue().encode()


def panel_csv() -> bytes:
    """Three short monthly series in one table (config.series_id)."""
    rng = np.random.default_rng(11)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["store", "month", "sales"])
    for k, (store, n) in enumerate({"north": 40, "south": 36, "east": 44}.items()):
        t = np.arange(n)
        y = (100 * (k + 1)) * (3 + 0.02 * t + 0.5 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 2, n)
        for i in range(n):
            w.writerow([store, i, f"{y[i]:.3f}"])
    return buf.getvalue().encode()


def anomaly_csv() -> bytes:
    """Labelled anomalies: every 10th row shifted away from the rest (not all separable)."""
    rng = np.random.default_rng(4)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "c", "y"])
    for k in range(80):
        odd = k % 10 == 0
        a, b, c = rng.normal(size=3) + (2.5 if odd else 0)
        w.writerow([f"{a:.3f}", f"{b:.3f}", f"{c:.3f}", int(odd)])
    return buf.getvalue().encode()


FORECAST = {"task_type": "forecasting", "target": "sales",
            "config": {"time_column": "month", "horizon": 4, "season_length": 12, "series_id": "store",
                       "cv": {"folds": 2}, "hpo": {"trials": 2}, "models": ["ridge"]}}  # fmt: skip
ANOMALY = {"task_type": "anomaly", "target": "y", "objective": "auc",
           "config": {"contamination": 0.1, "cv": {"folds": 2}, "hpo": {"trials": 3}}}  # fmt: skip


def create(deps: Deps, data: bytes, body: dict[str, Any]) -> dict[str, Any]:
    if deps.store.projects.get("p1") is None:
        deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", data)
    exp = experiments.create(deps, ADMIN, {"project_id": "p1", "dataset_id": ds["id"], **body})
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    return exp


def run_locally(data: bytes, body: dict[str, Any]) -> tuple[Deps, str]:
    """The same experiment run by the local worker on a store of its own (a shared one would hand it
    the other run's winners as a warm start)."""
    from optiloop.automl import run
    from optiloop.store.factory import open_memory

    deps = Deps(*open_memory())
    exp = create(deps, data, body)
    run.execute(deps, exp["id"])
    return deps, exp["id"]


def board(deps: Deps, exp_id: str) -> list[dict[str, Any]]:
    return [{k: t.get(k) for k in SAME} for t in experiments.trials(deps, ADMIN, exp_id)]


def same_as_local(deps: Deps, exp_id: str, local_deps: Deps, local_id: str) -> None:
    """The AWS run recorded what the local worker records: every trial (all but ids and CPU
    seconds), the leaderboard's order, the best trial, the report and the progress counters."""
    aws, local = experiments._load(deps, exp_id).data, experiments._load(local_deps, local_id).data
    assert aws["status"] == local["status"] == "completed", (aws.get("error"), local.get("error"))
    assert board(deps, exp_id) == board(local_deps, local_id)
    assert aws["warm_start"] == local["warm_start"]
    for key in ("model", "metrics"):
        assert aws["best"][key] == local["best"][key]
    number = {t["trial_id"]: t["number"] for t in experiments.trials(deps, ADMIN, exp_id)}
    number.update({t["trial_id"]: t["number"] for t in experiments.trials(local_deps, ADMIN, local_id)})
    assert number[aws["best"]["trial_id"]] == number[local["best"]["trial_id"]]
    assert aws["report"]["trial_id"] == aws["best"]["trial_id"]
    assert {k: v for k, v in aws["report"].items() if k != "trial_id"} == {
        k: v for k, v in local["report"].items() if k != "trial_id"
    }
    for key in ("trials_done", "trials_total"):
        assert aws["progress"][key] == local["progress"][key]
    ranked = [t["number"] for t in experiments.leaderboard(deps, ADMIN, exp_id)["trials"]]
    assert ranked == [t["number"] for t in experiments.leaderboard(local_deps, ADMIN, local_id)["trials"]]
