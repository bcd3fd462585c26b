"""The experiment workflow's step Lambda on the AWS adapters (DynamoDB + S3 under moto), and the runs
snapshot a `project_runs` training channel is made of."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import ValidationError

from events.harness import add_runs, deployment, invoke, load_handlers
from functions.common.runtime import process_deps
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.errors import InvalidInput, NotFound
from optiloop.projects import create_project
from optiloop.testopt.constraints import add_constraint
from optiloop.workflows.training import NothingToTrain, manifest_key, prepare_training

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu", "us"]},
    },
    "relations": ["payload_kb <= 512 or region != 'us'"],
}


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    with deployment(monkeypatch, tmp_path):
        yield load_handlers(["workflow_steps"])["workflow_steps"]


@pytest.fixture
def deps(steps: ModuleType) -> Deps:
    return process_deps()


def project(deps: Deps, runs: int) -> str:
    pid = create_project(deps, OPERATOR, "trained").id
    add_constraint(deps, OPERATOR, pid, name="base", type="hard", weight=1.0, json_schema=SPACE)
    if runs:
        add_runs(deps, pid, runs)
    return pid


def actions(deps: Deps, pid: str, action: str) -> list[dict]:
    return [r.details for r in deps.store.audit.list(project_id=pid, action=action)]


def snap(deps: Deps, event: dict) -> dict:
    return prepare_training(deps, event)


def test_prepare_training_snapshots_runs_and_space(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=5)
    out = snap(deps, {"project_id": pid, "training_id": "trn-1"})
    assert (
        out["manifest_key"] == manifest_key(pid, "trn-1")
        and out["runs"] == 5
        and out["runs_through_seq"] == 5
    )
    manifest = json.loads(deps.blobs.get(out["manifest_key"]))
    assert manifest["format"] == "optiloop.training-manifest/1"
    assert set(manifest["space"]["params"]) == {"payload_kb", "region"}
    data = deps.blobs.get(manifest["data"]["key"])
    assert (
        hashlib.sha256(data).hexdigest() == manifest["data"]["sha256"]
        and len(data) == manifest["data"]["bytes"]
    )
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["params"] == {"payload_kb": 8, "region": "eu"} and rows[2]["status"] == "fail"
    assert actions(deps, pid, "training.prepared") == [
        {"manifest_key": out["manifest_key"], "runs": 5, "runs_through_seq": 5}
    ]


def test_prepare_training_is_safe_to_retry(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=2)
    first = snap(deps, {"project_id": pid, "training_id": "trn-1"})
    add_runs(deps, pid, 1)  # a run that lands between the attempt and Step Functions' retry
    assert snap(deps, {"project_id": pid, "training_id": "trn-1"}) == first
    assert len(actions(deps, pid, "training.prepared")) == 1
    fresh = snap(deps, {"project_id": pid})  # no id: a new training of all 3 runs
    assert fresh["training_id"].startswith("trn_") and fresh["runs"] == 3


def test_prepare_training_refuses_nothing_and_unknown_projects(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=0)
    with pytest.raises(NothingToTrain):
        snap(deps, {"project_id": pid})
    busy = project(deps, runs=3)
    with pytest.raises(NothingToTrain, match="has 3 runs; the workflow needs 50"):
        snap(deps, {"project_id": busy, "min_runs": 50})
    with pytest.raises(NotFound):
        snap(deps, {"project_id": "prj_missing"})
    with pytest.raises(ValidationError):
        snap(deps, {"project_id": "../etc"})
    assert deps.blobs.list("training/") == []


def state(deps: Deps, pid: str, **extra: object) -> dict:
    return {
        "execution_id": "wfx_1",
        "project_id": pid,
        "started_by": {"name": "alice", "role": "admin", "project_id": None},
        "entry_point": "tabular_xgb",
        "inputs": {"train": {"project_runs": pid}},
        "model": {"name": "surrogate"},
        "evaluation": {"metric": "auc"},
        **extra,
    }


def test_steps_run_in_the_lambda_and_are_safe_to_retry(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=3)
    event = {"step": "prepare_experiment", "state": state(deps, pid)}
    first = invoke(steps.handler, event)
    assert first["model_name"] == "surrogate" and first["route"] == "register"
    assert invoke(steps.handler, event) == first  # a retried task finds the model it created
    assert [r.action for r in deps.store.audit.list(project_id=pid, action="model.created")] == [
        "model.created"
    ]
    routed = invoke(
        steps.handler,
        {"step": "prepare_experiment", "state": state(deps, pid, deploy={"environment": "production"})},
    )
    assert routed["route"] == "approve_then_deploy"


def test_step_errors_carry_their_class_name_for_retry_and_catch(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=1)
    with pytest.raises(NothingToTrain):
        invoke(steps.handler, {"step": "prepare_experiment", "state": state(deps, pid, min_runs=5)})
    with pytest.raises(InvalidInput, match="step"):
        invoke(steps.handler, {"step": "train_everything", "state": {}})
    with pytest.raises(InvalidInput, match="state"):
        invoke(steps.handler, {"step": "evaluate", "state": "nope"})
    with pytest.raises(NotFound):
        invoke(
            steps.handler,
            {"step": "prepare_experiment", "state": state(deps, pid, model={"model_id": "mdl_x"})},
        )


def test_record_failure_writes_the_reason_to_the_audit_trail(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=0)
    failure = {"Error": "Conflict", "Cause": "policy prod-gate: auc 0.61 < 0.9", "state": "RequestApproval"}
    out = invoke(steps.handler, {"step": "record_failure", "state": {**state(deps, pid), "failure": failure}})
    assert out["recorded"] is True
    [audited] = deps.store.audit.list(project_id=pid, action="workflow.failed")
    assert (
        audited.target == "wfx_1"
        and audited.principal == "alice"
        and audited.details["Cause"] == failure["Cause"]
    )
