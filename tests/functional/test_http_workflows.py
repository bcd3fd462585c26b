"""The experiment workflow over HTTP on the local runner: real training subprocesses (the `tiny`
entry point, ~50 ms a job), the real registry, approvals and deployments."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from training_scripts import make_code_root

from optiloop.models.lineage import walk
from optiloop.models.training.local import LocalTrainer

ROWS = [{"id": f"r{i}", "input": {"x": i / 10}, "expected": int(i > 4)} for i in range(10)]


@pytest.fixture
def trainer(api: Any, tmp_path: Path) -> LocalTrainer:
    t = LocalTrainer(make_code_root(tmp_path, real=False), tmp_path / "work", api.deps.blobs, stop_grace_s=1)
    api.deps.trainer = t
    return t


def dataset(api: Any, pid: str) -> str:
    r = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "rows"})
    assert r.status_code == 201, r.text
    r = api.client.post(f"/v1/datasets/{r.json()['id']}/examples", headers=api.admin, json={"examples": ROWS})
    assert r.status_code == 200, r.text
    return str(r.json()["id"] if "id" in r.json() else r.json()["dataset_id"])


def body(pid: str, ds: str, **extra: Any) -> dict[str, Any]:
    return {
        "project_id": pid,
        "entry_point": "tiny",
        "inputs": {"train": {"dataset_id": ds}},
        "model": {"name": "churn"},
        "evaluation": {"metric": "auc", "min_value": 0.5},
        "poll_seconds": 0.02,
        "approval_poll_seconds": 0.02,
        **extra,
    }


def start(api: Any, payload: dict[str, Any], headers: dict | None = None) -> Any:
    return api.client.post("/v1/workflow_executions", headers=headers or api.admin, json=payload)


def wait(api: Any, execution_id: str, *, until: Any = None, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = api.client.get(f"/v1/workflow_executions/{execution_id}", headers=api.admin)
        assert r.status_code == 200, r.text
        ex = dict(r.json())
        done = until(ex) if until else ex["status"] != "RUNNING"
        if done or time.monotonic() > deadline:
            return ex
        time.sleep(0.02)


def states(ex: dict[str, Any]) -> list[str]:
    return [e["state"] for e in ex["events"] if e["status"] == "succeeded"]


@pytest.fixture
def project(api: Any) -> tuple[str, str]:
    pid = api.project()
    return pid, dataset(api, pid)


def test_trains_evaluates_registers_and_deploys_to_staging(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    r = start(api, body(pid, ds, deploy={"environment": "staging"}))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "RUNNING" and r.json()["backend"] == "local"
    ex = wait(api, r.json()["id"])
    assert ex["status"] == "SUCCEEDED", (ex["events"], ex["error"])
    assert states(ex) == [
        "Prepare",
        "StartTraining",
        *["CheckTraining"] * ex["visits"]["CheckTraining"],
        "Evaluate",
        "Register",
        "Deploy",
    ]
    res = ex["results"]
    assert res["experiment"]["route"] == "deploy"
    assert res["training"]["status"] == "Completed" and res["verdict"]["value"] == 0.75
    vid, dep = res["version"]["model_version_id"], res["deployment"]["deployment_id"]

    pred = api.client.post(
        f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": [{"x": 0.9}]}
    )
    assert pred.status_code == 200, pred.text
    assert pred.json()["model_version_id"] == vid and pred.json()["predictions"][0]["label"] == 1

    # the deployment's lineage reaches back to the dataset the job trained on
    up = {(n["type"], n["id"]) for n in walk(api.deps, "deployment", dep)["upstream"]}
    assert ("model_version", vid) in up and ("dataset", ds) in up
    listed = api.client.get(f"/v1/projects/{pid}/workflow_executions", headers=api.admin).json()
    assert [e["id"] for e in listed["items"]] == [ex["id"]]
    actions = [a.action for a in api.deps.store.audit.list(project_id=pid, limit=1000)]
    assert "workflow.started" in actions and "model_version.registered" in actions


def test_production_waits_for_a_second_person_to_approve(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    alice, bob = api.key("admin", principal="alice"), api.key("admin", principal="bob")
    r = start(api, body(pid, ds, deploy={"environment": "production"}), headers=alice)
    assert r.status_code == 202, r.text
    ex = wait(api, r.json()["id"], until=lambda e: e["visits"].get("CheckApproval", 0) >= 2)
    assert ex["status"] == "RUNNING" and ex["results"]["experiment"]["route"] == "approve_then_deploy"
    approval_id = ex["results"]["review"]["approval_id"]

    # the person who started the workflow is the version's author: they cannot approve it
    same = api.client.post(
        f"/v1/approvals/{approval_id}/decisions", headers=alice, json={"decision": "approve"}
    )
    assert same.status_code == 403, same.text
    ok = api.client.post(f"/v1/approvals/{approval_id}/decisions", headers=bob, json={"decision": "approve"})
    assert ok.status_code == 200, ok.text

    ex = wait(api, ex["id"])
    assert ex["status"] == "SUCCEEDED", (ex["events"], ex["error"])
    dep = api.client.get(f"/v1/deployments/{ex['results']['deployment']['deployment_id']}", headers=api.admin)
    assert dep.status_code == 200 and dep.json()["environment"] == "production", dep.text


def test_a_rejected_version_is_never_deployed(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    alice, other = api.key("admin", principal="alice"), api.key("admin", principal="bob")
    ex = wait(
        api,
        start(api, body(pid, ds, deploy={"environment": "production"}), headers=alice).json()["id"],
        until=lambda e: "review" in e["results"],
    )
    api.client.post(
        f"/v1/approvals/{ex['results']['review']['approval_id']}/decisions",
        headers=other,
        json={"decision": "reject", "comment": "not yet"},
    )
    ex = wait(api, ex["id"])
    assert ex["status"] == "SUCCEEDED" and ex["current_state"] == "NotApproved"
    assert "deployment" not in ex["results"]


def test_a_crashing_job_fails_the_workflow_and_says_why(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    ex = wait(api, start(api, body(pid, ds, hyperparameters={"mode": "crash"})).json()["id"])
    assert ex["status"] == "FAILED" and ex["error"]["Error"] == "OptiLoop.WorkflowFailed"
    assert "RecordFailure" in states(ex) and "Register" not in ex["visits"]
    [failed] = api.deps.store.audit.list(action="workflow.failed", limit=10)
    assert failed.target == ex["id"] and failed.details["Error"] == "TrainingJobFailed"
    assert "crash" in failed.details["Cause"]


def test_a_candidate_under_the_floor_registers_nothing(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    ex = wait(api, start(api, body(pid, ds, evaluation={"metric": "auc", "min_value": 0.9})).json()["id"])
    assert ex["status"] == "SUCCEEDED" and ex["current_state"] == "NotBetter"
    assert ex["results"]["verdict"]["outcome"] == "not_better"
    model_id = ex["results"]["experiment"]["model_id"]
    versions = api.client.get(f"/v1/models/{model_id}/versions", headers=api.admin).json()
    assert versions["items"] == []


def test_a_metric_the_job_never_reported_fails_with_the_field(api: Any, trainer: Any, project: Any) -> None:
    pid, ds = project
    ex = wait(api, start(api, body(pid, ds, evaluation={"metric": "f1"})).json()["id"])
    assert ex["status"] == "FAILED"
    [caught] = [e for e in ex["events"] if e["status"] == "caught"]
    assert caught["state"] == "Evaluate" and "evaluation.metric" in caught["error"]["Cause"]


def test_too_few_runs_skips_quietly(api: Any, trainer: Any) -> None:
    pid = api.project()
    payload = body(pid, "unused", inputs={"train": {"project_runs": pid}}, min_runs=5)
    ex = wait(api, start(api, payload).json()["id"])
    assert ex["status"] == "SUCCEEDED" and ex["current_state"] == "Skipped"
    assert ex["results"]["skipped"]["Error"] == "NothingToTrain"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"model": None}, "model"),
        ({"evaluation": {"min_value": 1}}, "evaluation.metric"),
        ({"deploy": {"environment": "prod"}}, "deploy.environment"),
        ({"poll_seconds": -1}, "poll_seconds"),
        ({"execution_id": "mine"}, "execution_id"),
        ({"started_by": {"name": "ceo", "role": "owner"}}, "started_by"),
    ],
)
def test_bad_requests_are_422_naming_the_field(api: Any, project: Any, patch: dict, field: str) -> None:
    pid, ds = project
    payload = {k: v for k, v in {**body(pid, ds), **patch}.items() if v is not None}
    r = start(api, payload)
    assert r.status_code == 422, r.text
    fields = [f.removeprefix("body.") for f in api.error_fields(r)]
    assert any(f == field or f.startswith(field) for f in fields), r.json()
    assert api.client.get(f"/v1/projects/{pid}/workflow_executions", headers=api.admin).json()["items"] == []


def test_roles_and_unknown_ids(api: Any, project: Any) -> None:
    pid, ds = project
    viewer = api.key("viewer", pid)
    assert start(api, body(pid, ds), headers=viewer).status_code == 403
    assert start(api, body("nope", ds)).status_code == 404
    assert api.client.get("/v1/workflow_executions/wfx_missing", headers=api.admin).status_code == 404
