"""The AWS fan-out's steps (optiloop.automl.fanout), driven the way the state machine drives them —
plan -> start each trial -> poll -> record, until plan says done -> finalise — with the local trainer
running each trial as a real `automl_trial` training job (a subprocess of this Python)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from automl_search_cases import linear_csv

from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, fanout, report
from optiloop.automl.objectives import Objective
from optiloop.deps import Deps
from optiloop.models.artifact import read_artifact
from optiloop.models.training.local import LocalTrainer
from optiloop.store.records import Project

pytest.importorskip("optuna")
_LOGLOSS = Objective("logloss", "minimize")
pytest.importorskip("sklearn")

ADMIN = Principal("alice", "admin", None, None)
REPO = Path(__file__).resolve().parents[3]


def _drive(deps: Deps, exp_id: str, batch: int, *, cancel_after_start: bool = False) -> list[dict[str, Any]]:
    """The state machine's loop, in process: what each Plan asked for, batch by batch (a cancel
    right after the first batch's jobs are started, if asked)."""
    state = fanout.execution_input(experiments._load(deps, exp_id).data, ADMIN) | {"batch_size": batch}
    plans = []
    while True:
        plan = fanout.plan(deps, state)
        assert fanout.plan(deps, state) == plan  # the same history: the same batch (reproducible)
        plans.append(plan)
        if plan["done"]:
            break
        items = []
        for trial in plan["trials"]:  # the Map: every item started, then each polled until it ends
            item = {**state, "trial": trial}
            items.append({**item, "job": fanout.start_trial(deps, item)})
        if cancel_after_start:
            experiments.cancel(deps, ADMIN, exp_id, lambda _e: None)
        for item in items:
            deadline = time.monotonic() + 60
            while fanout.check_trial(deps, item)["status"] in ("Pending", "InProgress", "Stopping"):
                assert time.monotonic() < deadline, "a trial job did not end"
                time.sleep(0.1)
        assert fanout.start_trial(deps, items[0]) == items[0]["job"]  # a retried start: the same job
        fanout.record(deps, {**state, "batch": items})
        fanout.record(deps, {**state, "batch": items})  # a retried record writes nothing twice
    fanout.finalise(deps, state)
    return plans


def _started(deps: Deps, tmp_path: Path, config: dict[str, Any]) -> str:
    """A classification experiment on the linear table, created and started for the fan-out, whose
    trials run as local training jobs (two at a time): its id."""
    deps.trainer = LocalTrainer(REPO / "training_jobs", tmp_path / "jobs", deps.blobs, max_concurrent=2)
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", linear_csv())
    body = {"project_id": "p1", "task_type": "classification", "objective": "logloss", "dataset_id": ds["id"],
            "target": "y", "config": {"cv": {"folds": 2}, **config}}  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    return str(exp["id"])


def test_trials_fan_out_as_training_jobs_and_the_experiment_completes(deps: Deps, tmp_path: Path) -> None:
    config = {"hpo": {"trials": 4, "warm_start": 0}, "models": ["logistic_regression", "extra_trees"],
              "constraints": {"model_size_bytes": 5000}}  # fmt: skip
    exp_id = _started(deps, tmp_path, config)

    plans = _drive(deps, exp_id, batch=2)
    assert [len(p["trials"]) for p in plans] == [2, 2, 0] and plans[-1]["reason"] == "trial budget spent"
    # the linear defaults and its most regularised point, then the other families' defaults, in the
    # portfolio's order, as in the local search (search.runner.enqueue_first_trials): configured
    # before the search (prior, which the one-SE selection prefers among equals), then the sampler's
    planned = [t for p in plans for t in p["trials"]]
    assert [t["family"] for t in planned[:3]] == ["linear", "linear", "extra_trees"]
    assert [t["prior"] for t in planned] == [True, True, True, False]
    done = experiments._load(deps, exp_id).data
    assert done["status"] == "completed", done.get("error")
    every = experiments.trials(deps, ADMIN, exp_id)
    trials = [t for t in every if t["family"] != "ensemble"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    assert [t["prior"] for t in trials] == [True, True, True, False]
    assert all(t["status"] == "completed" and t["artifact_key"] for t in trials)
    # 80 rows: 2 folds drawn 5 times (search.runner.cv_repeats), each trial scored on all 10
    assert all(len(t["fold_scores"]) == 2 * 5 and t["cost"]["latency_ms_p95"] > 0 for t in trials)
    forest = next(t for t in trials if t["family"] == "extra_trees")
    assert forest["feasible"] is False and forest["violations"]  # a forest's artifact is > 5,000 bytes
    assert done["best"]["trial_id"] in {t["trial_id"] for t in every if t["feasible"]}
    # one winner: Finalise's best, its report and the leaderboard's first row (config.selection) —
    # read from the ranking Finalise stored (experiments.snapshot_ranking)
    assert deps.blobs.get(done[experiments.SNAPSHOT_FIELD]) is not None
    board = experiments.leaderboard(deps, ADMIN, exp_id)
    assert board["trials"][0]["trial_id"] == done["best"]["trial_id"] == done["report"]["trial_id"]
    assert (
        board["selection"]["rule"] == "one_se" and board["selection"]["trial_id"] == done["best"]["trial_id"]
    )
    assert done["report"]["permutation_importance"]
    # its PNGs are drawn in the Finalise Lambda too (numpy: automl.canvas), stored where the API reads
    plots = done["report"]["plots"]["files"]
    assert {"importance.png", "shap.png", "reliability.png", "thresholds.png"} <= set(plots)
    assert report.plot(deps, done, "importance.png")[:8] == b"\x89PNG\r\n\x1a\n"
    # the job's own files left the served artifact (it is what a local run packs); the out-of-fold
    # outputs are kept beside it for the ensemble, which draws on feasible trials only
    served = read_artifact(deps.blobs.get(trials[0]["artifact_key"]) or b"")
    assert not {"trial.json", "oof.npz"} & set(served.files)
    raw = deps.blobs.get(fanout._oof_key(trials[0]))
    assert raw is not None
    # the job's folds are the local search's: one fold id per (draw, row) slot, as search.runner.stacked
    from optiloop.automl.forecast import prepare_for
    from optiloop.automl.search.runner import SearchSpec, folds_of, stacked

    with np.load(io.BytesIO(raw)) as z:
        fold, oof = z["fold"], z["oof"]
    prep = prepare_for(datasets.load_table(deps, fanout._dataset(deps, done)), "y", "classification",
                       done["config"])  # fmt: skip
    spec = SearchSpec(objective=_LOGLOSS, folds=2, repeats=None)
    local = stacked(folds_of(prep.y, spec, prep.signature.task), prep.y.size)
    assert fold.shape == (80 * 5,) and oof.shape[0] == 80 * 5
    assert all(np.array_equal(np.flatnonzero(fold == j), np.sort(slot)) for j, (_, slot) in enumerate(local))
    for ens in (t for t in every if t["family"] == "ensemble"):
        assert forest["number"] not in {m["number"] for m in ens["params"]["ensemble.members"]}
    jobs = [d.data for d in deps.store.docs.list("training_job", "p1", limit=10)]
    assert len(jobs) == 4 and {j["entry_point"] for j in jobs} == {"automl_trial"}


def test_plan_stops_when_the_recorded_trials_cpu_passes_the_cpu_budget(deps: Deps, tmp_path: Path) -> None:
    """The trial jobs' own CPU (each records its cpu_s) decides, not the clock: after one batch whose
    trials spent more than the 0.01 CPU-seconds allowed, Plan is done with 4 of 8 trials left."""
    config = {"hpo": {"trials": 8, "warm_start": 0}, "models": ["logistic_regression"], "budget_cpu_s": 0.01}
    exp_id = _started(deps, tmp_path, config)
    plans = _drive(deps, exp_id, batch=4)
    assert [len(p["trials"]) for p in plans] == [4, 0] and plans[-1]["reason"] == "CPU budget spent"
    done = experiments._load(deps, exp_id).data
    assert done["status"] == "completed" and done["progress"]["cpu_s"] > 0.01


def test_a_cancel_stops_the_running_trial_jobs_and_a_resume_goes_on(deps: Deps, tmp_path: Path) -> None:
    """On SageMaker a trial job holds an instance for minutes: a cancel stops the batch's jobs at
    their next poll, they are recorded as stopped trials (as the local run records the trial a
    cancel interrupts), the experiment ends cancelled, and a resume runs the rest of the budget."""
    config = {"hpo": {"trials": 4, "warm_start": 0}, "models": ["logistic_regression"]}
    exp_id = _started(deps, tmp_path, config)
    plans = _drive(deps, exp_id, batch=2, cancel_after_start=True)
    done = experiments._load(deps, exp_id).data
    assert done["status"] == "cancelled" and plans[-1]["reason"] == "cancelled"
    jobs = [d.data for d in deps.store.docs.list("training_job", "p1", limit=10)]
    assert len(jobs) == 2 and {j["status"] for j in jobs} == {"Stopped"}
    stopped = experiments.trials(deps, ADMIN, exp_id)
    assert [(t["number"], t["status"]) for t in stopped] == [(0, "stopped"), (1, "stopped")]
    assert all("the experiment was cancelled" in t["error"] and not t["artifact_key"] for t in stopped)
    experiments.resume(deps, ADMIN, exp_id, lambda _d, _e: None, lambda _e: False)
    _drive(deps, exp_id, batch=2)
    resumed = experiments._load(deps, exp_id).data
    assert resumed["status"] == "completed", resumed.get("error")
    every = experiments.trials(deps, ADMIN, exp_id)
    assert [t["status"] for t in every if t["family"] != "ensemble"] == ["stopped"] * 2 + ["completed"] * 2


def test_a_failed_step_fails_the_experiment_saying_why(deps: Deps) -> None:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", linear_csv(40))
    body = {"project_id": "p1", "task_type": "classification", "objective": "auc", "dataset_id": ds["id"],
            "target": "y"}  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)
    out = fanout.fail(
        deps, {"experiment_id": exp["id"], "failure": {"Error": "States.Timeout", "Cause": "x"}}
    )
    assert out["status"] == "failed" and experiments._load(deps, exp["id"]).data["error"] == "x"
    assert fanout.plan(deps, fanout.execution_input(exp, ADMIN))["done"]  # a finished one plans nothing


class _FakeStepFunctions:
    """What StepFunctionsRunner asks of boto3's stepfunctions client."""

    class exceptions:
        class ExecutionDoesNotExist(Exception):
            pass

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.status: dict[str, str] = {}

    def start_execution(self, **kw: Any) -> dict[str, Any]:
        self.started.append(kw)
        return {"executionArn": kw["name"]}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        name = executionArn.rsplit(":", 1)[1]
        if name not in self.status:
            raise self.exceptions.ExecutionDoesNotExist(name)
        return {"status": self.status[name]}


def test_on_aws_a_run_is_a_named_execution_of_the_automl_state_machine(deps: Deps) -> None:
    from optiloop.automl.worker import StepFunctionsRunner

    client = _FakeStepFunctions()
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:optiloop-acme-automl"
    runner = StepFunctionsRunner(client, arn, batch=3)
    for task in ("classification", "regression", "forecasting", "anomaly"):  # each runs on AWS
        runner.accepts({"task_type": task})  # (forecasting, anomaly: one search job, test_search_job)
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", linear_csv(40))
    body = {"project_id": "p1", "task_type": "classification", "objective": "auc", "dataset_id": ds["id"],
            "target": "y"}  # fmt: skip
    exp = experiments.create(deps, ADMIN, body)
    runner.accepts(exp)
    experiments.start(deps, ADMIN, exp["id"], runner.submitter(ADMIN))
    [started] = client.started
    assert started["stateMachineArn"] == arn and started["name"] == f"{exp['id']}-0"
    payload = json.loads(started["input"])
    assert payload["batch_size"] == 3 and payload["started_by"]["name"] == "alice"
    assert not runner.is_active(exp["id"], deps=deps)  # no such execution (yet, or any more)
    client.status[f"{exp['id']}-0"] = "RUNNING"
    assert runner.is_active(exp["id"], deps=deps)
