"""Step Functions task handlers: what they leave in the blob store and the audit log, and retries."""

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
from optiloop.errors import Conflict, InvalidInput, NotFound
from optiloop.projects import create_project
from optiloop.testopt.constraints import add_constraint
from optiloop.workflows.training import NothingToTrain, manifest_key, registry_key

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


def test_prepare_training_snapshots_runs_and_space(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=5)
    out = invoke(steps.prepare_training, {"project_id": pid, "training_id": "trn-1"}, "prepare_training")
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
    first = invoke(steps.prepare_training, {"project_id": pid, "training_id": "trn-1"})
    add_runs(deps, pid, 1)  # a run that lands between the attempt and Step Functions' retry
    assert invoke(steps.prepare_training, {"project_id": pid, "training_id": "trn-1"}) == first
    assert len(actions(deps, pid, "training.prepared")) == 1
    fresh = invoke(steps.prepare_training, {"project_id": pid})  # no id: a new training of all 3 runs
    assert fresh["training_id"].startswith("trn_") and fresh["runs"] == 3


def test_prepare_training_refuses_nothing_and_unknown_projects(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=0)
    with pytest.raises(NothingToTrain):
        invoke(steps.prepare_training, {"project_id": pid})
    busy = project(deps, runs=3)
    with pytest.raises(NothingToTrain, match="has 3 runs; the workflow needs 50"):
        invoke(steps.prepare_training, {"project_id": busy, "min_runs": 50})
    with pytest.raises(NotFound):
        invoke(steps.prepare_training, {"project_id": "prj_missing"})
    with pytest.raises(ValidationError):
        invoke(steps.prepare_training, {"project_id": "../etc"})
    assert deps.blobs.list("training/") == []


def test_record_model_registers_a_real_artifact_once(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=4)
    invoke(steps.prepare_training, {"project_id": pid, "training_id": "trn-1"})
    artifact = f"artifacts/{pid}/trn-1/model.tar.gz"
    event = {"project_id": pid, "training_id": "trn-1", "artifact": artifact, "metrics": {"val_rmse": 0.25}}
    with pytest.raises(NotFound, match="not in the blob store"):
        invoke(steps.record_model, event)  # the job has not written it (yet): nothing is registered

    deps.blobs.put(artifact, b"model bytes")
    entry = invoke(steps.record_model, {**event, "artifact": f"s3://optiloop-dev-bucket/{artifact}"})
    assert entry["artifact_key"] == artifact and entry["runs_through_seq"] == 4
    assert entry["artifact_sha256"] == hashlib.sha256(b"model bytes").hexdigest()
    assert json.loads(deps.blobs.get(registry_key(pid, "trn-1"))) == entry
    [audited] = actions(deps, pid, "model.registered")
    assert audited["runs_through_seq"] == 4 and audited["metrics"] == {"val_rmse": 0.25}

    assert invoke(steps.record_model, event) == entry  # a retried task returns the first registration
    assert len(actions(deps, pid, "model.registered")) == 1
    deps.blobs.put(artifact, b"other bytes")
    with pytest.raises(Conflict):
        invoke(steps.record_model, event)


def test_record_model_needs_a_prepared_training_and_finite_metrics(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=1)
    deps.blobs.put("artifacts/m.tar.gz", b"x")
    with pytest.raises(NotFound, match="no training"):
        invoke(
            steps.record_model, {"project_id": pid, "training_id": "trn-9", "artifact": "artifacts/m.tar.gz"}
        )
    invoke(steps.prepare_training, {"project_id": pid, "training_id": "trn-9"})
    with pytest.raises(InvalidInput, match=r"metrics\.loss"):
        invoke(
            steps.record_model,
            {
                "project_id": pid,
                "training_id": "trn-9",
                "artifact": "artifacts/m.tar.gz",
                "metrics": {"loss": "nan"},
            },
        )


def test_one_function_deployment_dispatches_on_step(steps: ModuleType, deps: Deps) -> None:
    pid = project(deps, runs=1)
    out = invoke(steps.handler, {"step": "prepare_training", "project_id": pid, "training_id": "t1"})
    assert out["runs"] == 1
    with pytest.raises(InvalidInput, match="step"):
        invoke(steps.handler, {"step": "train", "project_id": pid})
