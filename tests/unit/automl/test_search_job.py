"""Forecasting and anomaly experiments on AWS (optiloop.automl.search_job): the AutoML state
machine's steps, driven as the machine drives them, send the whole search to one real
`automl_experiment` training job (the local trainer: a subprocess of this Python), and the recorded
experiment is the local worker's — same trials, metrics, artifacts (sha256), best trial and report.
A failed job fails the experiment with its reason and writes no trial; a cancel stops the job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from automl_search_cases import (
    ADMIN,
    FORECAST,
    create,
    panel_csv,
    run_locally,
    same_as_local,
)

from optiloop.automl import experiments, fanout, search_job
from optiloop.deps import Deps
from optiloop.models.training.local import LocalTrainer

pytest.importorskip("optuna")
pytest.importorskip("sklearn")
pytest.importorskip("scipy")

REPO = Path(__file__).resolve().parents[3]


def drive(deps: Deps, exp_id: str, *, cancel_after_start: bool = False) -> list[dict[str, Any]]:
    """The state machine's loop in process (Plan, the Map's StartTrial/CheckTrial, Record, Finalise)."""
    state = fanout.execution_input(experiments._load(deps, exp_id).data, ADMIN) | {"batch_size": 4}
    plans = []
    while True:
        plan = fanout.plan(deps, state)
        plans.append(plan)
        if plan["done"]:
            break
        items = [{**state, "trial": t} for t in plan["trials"]]
        for item in items:
            item["job"] = fanout.start_trial(deps, item)
            assert fanout.start_trial(deps, item) == item["job"]  # a retried start: the same job
        if cancel_after_start:
            experiments.cancel(deps, ADMIN, exp_id, lambda _e: None)
        for item in items:
            deadline = time.monotonic() + 90
            while (job := fanout.check_trial(deps, item))["status"] in ("Pending", "InProgress", "Stopping"):
                assert time.monotonic() < deadline, "the search job did not end"
                time.sleep(0.1)
            item["job"] = job
        fanout.record(deps, {**state, "batch": items})
        fanout.record(deps, {**state, "batch": items})  # a retried record writes nothing twice
    fanout.finalise(deps, state)
    return plans


def test_the_search_runs_as_one_job_and_records_the_local_runs_trials(deps: Deps, tmp_path: Path) -> None:
    """Forecasting here (a real job subprocess); anomaly through moto's execution of the machine
    (tests/infra/test_infra_automl_run.py), both against the local worker's run."""
    deps.trainer = LocalTrainer(REPO / "training_jobs", tmp_path / "jobs", deps.blobs, max_concurrent=1)
    table, body = panel_csv(), FORECAST
    aws = create(deps, table, body)
    plans = drive(deps, aws["id"])
    assert [p["trials"] for p in plans] == [[search_job.PLAN_ITEM], []]
    assert plans[-1]["reason"] == "the search job is recorded"
    same_as_local(deps, aws["id"], *run_locally(table, body))
    jobs = [d.data for d in deps.store.docs.list("training_job", "p1", limit=10)]
    assert [j["entry_point"] for j in jobs] == ["automl_experiment"] and jobs[0]["status"] == "Completed"
    assert jobs[0]["hyperparameters"]["fingerprint"] == aws["data_fingerprint"]


def test_a_failed_search_job_fails_the_experiment_with_its_reason_and_writes_nothing(
    deps: Deps, tmp_path: Path
) -> None:
    deps.trainer = LocalTrainer(REPO / "training_jobs", tmp_path / "jobs", deps.blobs, max_concurrent=1)
    exp = create(deps, panel_csv(), FORECAST)
    # a configuration the job cannot read (as a job from another version would see it)
    experiments.update(deps, exp["id"], config=dict(exp["config"], forecast=None), warm_start=[])
    plans = drive(deps, exp["id"])
    done = experiments._load(deps, exp["id"]).data
    assert done["status"] == "failed" and done["error"].startswith("the search's training job tj")
    assert "Failed" in done["error"] and plans[-1]["reason"] == "the experiment is failed"
    assert experiments.trials(deps, ADMIN, exp["id"]) == [] and done["best"] is None


def test_a_cancel_stops_the_search_job_and_the_experiment_ends_cancelled(deps: Deps, tmp_path: Path) -> None:
    deps.trainer = LocalTrainer(REPO / "training_jobs", tmp_path / "jobs", deps.blobs, max_concurrent=1)
    exp = create(deps, panel_csv(), FORECAST)
    plans = drive(deps, exp["id"], cancel_after_start=True)
    done = experiments._load(deps, exp["id"]).data
    assert done["status"] == "cancelled" and plans[-1]["reason"] == "cancelled"
    [job] = [d.data for d in deps.store.docs.list("training_job", "p1", limit=10)]
    assert job["status"] == "Stopped"
    assert experiments.trials(deps, ADMIN, exp["id"]) == []
    # resumed: a new job for the new run, and the search completes
    experiments.resume(deps, ADMIN, exp["id"], lambda _d, _e: None, lambda _e: False)
    drive(deps, exp["id"])
    assert experiments._load(deps, exp["id"]).data["status"] == "completed"
    assert len(deps.store.docs.list("training_job", "p1", limit=10)) == 2


def test_the_job_is_told_the_experiment_and_its_warm_start() -> None:
    exp = {"id": "exp_1", "task_type": "anomaly", "target": None, "metric": "auc", "direction": "maximize",
           "config": {"contamination": 0.1, "budget_s": 60.0}, "data_fingerprint": "sha256:x",
           "warm_start": [{"config": {"model": "isolation_forest"}}, {"config": {"model": "x"}}]}  # fmt: skip
    hps = search_job.hyperparameters(exp)
    assert all(isinstance(v, str) and len(v) <= 2500 for v in hps.values())
    back, warm = search_job.experiment_of(hps)
    assert back["target"] is None and back["config"] == exp["config"] and warm == exp["warm_start"]
    assert search_job.max_runtime_s(exp) == 60 + search_job.RUNTIME_MARGIN_S
    assert search_job.claim_key(exp) == "exp_1/search-000" and search_job.runs_as_one_job(exp)
    with pytest.raises(ValueError, match=r"search\.json"):
        search_job.read({"search.json": b'{"format": "other/1"}'})


BLOCKED_ON_LAMBDA = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("scipy", "sklearn", "xgboost", "torch"):
            raise ImportError("not in the workflow-steps Lambda's layers: " + name)
sys.meta_path.insert(0, Block())
import numpy as np
from optiloop.automl import fanout, search_job, run
from optiloop.automl.search import metrics
y = np.array([0, 1, 1, 0, 1]); out = np.array([[0.1], [0.8], [0.4], [0.4], [0.9]])
print(metrics.compute(y, out, "binary", 2)["auc"])
"""


def test_the_lambda_steps_score_without_scipy() -> None:
    """Finalise scores the ensemble and explains the best trial in the workflow-steps Lambda, whose
    layers have numpy but no scipy: the AUC's ranks are numpy's, equal to scipy's rankdata."""
    import os
    import subprocess
    import sys

    import numpy as np
    from scipy.stats import rankdata

    from optiloop.automl.search.metrics import _average_ranks

    rng = np.random.default_rng(0)
    for n, levels in ((1, 2), (7, 2), (200, 9), (500, 10_000)):
        s = rng.integers(0, levels, n) / 3.0
        assert np.array_equal(_average_ranks(s), rankdata(s))
    env = {**os.environ, "PYTHONPATH": str(REPO / "shared")}
    done = subprocess.run([sys.executable, "-c", BLOCKED_ON_LAMBDA], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 5.5 / 6  # one tie between a positive and a negative: half a pair


def test_a_search_without_a_model_writes_nothing(tmp_path: Path) -> None:
    """The job then fails with the trials' errors (training_jobs/automl_experiment): no half output."""
    from optiloop.automl.objectives import Objective
    from optiloop.automl.search.runner import TrialResult

    failed = [TrialResult(0, "linear", "ridge", {}, "failed", error="ValueError: x")]
    assert search_job.write(tmp_path / "model", failed, 1, Objective("mase", "minimize")) is None
    assert not (tmp_path / "model").exists()
