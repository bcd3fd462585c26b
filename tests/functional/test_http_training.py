"""Training jobs over HTTP on the local backend: real subprocesses, tiny data, few trees."""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from training_scripts import make_code_root

from optiloop.models.artifact import read_artifact
from optiloop.models.lineage import walk
from optiloop.models.runtimes import load
from optiloop.models.training.local import LocalTrainer

TERMINAL = {"Completed", "Failed", "Stopped"}


@pytest.fixture
def trainer(api: Any, tmp_path: Path) -> LocalTrainer:
    t = LocalTrainer(make_code_root(tmp_path), tmp_path / "work", api.deps.blobs, stop_grace_s=1)
    api.deps.trainer = t
    return t


def examples(n: int = 60, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        amount, country, vip = rng.uniform(0, 100), rng.choice(["pt", "pe", "no"]), rng.random() < 0.3
        churn = amount > 60 or (country == "no" and vip)
        out.append(
            {
                "id": f"c{i}",
                "input": {"amount": amount, "country": country, "vip": vip, "tenure": i % 7},
                "expected": "churn" if churn else "stay",
            }
        )
    return out


def dataset(api: Any, pid: str, rows: list[dict[str, Any]], headers: dict | None = None) -> str:
    r = api.client.post("/v1/datasets", headers=headers or api.admin, json={"project_id": pid, "name": "tab"})
    assert r.status_code == 201, r.text
    ds = r.json()["id"]
    r = api.client.post(f"/v1/datasets/{ds}/examples", headers=headers or api.admin, json={"examples": rows})
    assert r.status_code == 200, r.text
    return str(ds)


def start(
    api: Any, pid: str, entry_point: str, inputs: dict, headers: dict | None = None, **extra: Any
) -> Any:
    body = {"project_id": pid, "entry_point": entry_point, "inputs": inputs, **extra}
    return api.client.post("/v1/training_jobs", headers=headers or api.admin, json=body)


def wait(api: Any, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = api.client.get(f"/v1/training_jobs/{job_id}", headers=api.admin)
        assert r.status_code == 200, r.text
        if r.json()["status"] in TERMINAL or time.monotonic() > deadline:
            return dict(r.json())
        time.sleep(0.05)


@pytest.mark.slow
def test_tabular_xgb_trains_on_a_golden_set_and_leaves_a_servable_artifact(api: Any, trainer: Any) -> None:
    pid = api.project()
    ds = dataset(api, pid, examples())
    r = start(api, pid, "tabular_xgb", {"train": {"dataset_id": ds}}, hyperparameters={"n_estimators": "8"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] in ("Pending", "InProgress") and created["backend"] == "local"
    assert created["code_version"].startswith("sha256:") and created["data_fingerprint"].startswith("sha256:")
    assert created["inputs"]["train"]["dataset_id"] == ds

    job = wait(api, created["id"])
    assert job["status"] == "Completed", job["failure_reason"]
    assert set(job["metrics"]) >= {"auc", "logloss", "accuracy"} and 0 <= job["metrics"]["auc"] <= 1
    assert [m["name"] for m in job["metric_history"]][:3] == ["auc", "logloss", "accuracy"]
    blob = api.deps.blobs.get(job["artifact_key"])
    assert hashlib.sha256(blob).hexdigest() == job["artifact_sha256"]
    assert job["cost_usd"] == 0.0 and job["wall_seconds"] > 0 and job["cpu_seconds"] > 0
    assert job["billable_seconds"] == job["wall_seconds"]

    artifact = read_artifact(blob)
    sig = artifact.signature
    assert [(i.name, i.type) for i in sig.inputs] == [
        ("amount", "number"),
        ("country", "category"),
        ("tenure", "integer"),
        ("vip", "boolean"),
    ]  # fmt: skip  (datasets store examples as canonical JSON: fields sorted)
    assert (
        sig.classes == ("churn", "stay") and artifact.manifest["data_fingerprint"] == job["data_fingerprint"]
    )
    baseline = artifact.baseline
    assert baseline is not None and baseline["inputs"]["country"]["type"] == "category"
    assert len(baseline["inputs"]["amount"]["edges"]) == 11
    out = load(artifact).predict(sig.encode([e["input"] for e in examples()[:5]]))
    assert out.shape == (5, 1)

    logs = api.client.get(f"/v1/training_jobs/{job['id']}/logs", headers=api.admin).json()
    assert any(line.startswith("metric: auc=") for line in logs["lines"]) and logs["complete"]
    page = api.client.get(f"/v1/training_jobs/{job['id']}/logs?since=1&limit=1", headers=api.admin).json()
    assert page["lines"] == logs["lines"][1:2] and page["next_since"] == 2

    graph = walk(api.deps, "dataset", ds)
    assert {"type": "training_job", "id": job["id"]} in graph["downstream"]
    actions = [a.action for a in api.deps.store.audit.list(limit=1000)]
    assert "training_job.created" in actions and "training_job.completed" in actions


def test_a_crashing_script_is_a_failed_job_with_its_reason_and_no_artifact(api: Any, trainer: Any) -> None:
    pid = api.project()
    ds = dataset(api, pid, examples(5))
    r = start(api, pid, "tiny", {"train": {"dataset_id": ds}}, hyperparameters={"mode": "crash"})
    assert r.status_code == 201, r.text
    job = wait(api, r.json()["id"])
    assert job["status"] == "Failed"
    assert "tiny was asked to crash" in job["failure_reason"] and "about to fail" in job["failure_reason"]
    assert job["artifact_key"] is None and job["artifact_sha256"] is None
    assert job["metrics"] == {"rows": 5.0}
    assert "training_job.failed" in [a.action for a in api.deps.store.audit.list(limit=1000)]


@pytest.mark.parametrize("mode", ["empty", "junk"])
def test_a_script_without_an_optiloop_model_fails(api: Any, trainer: Any, mode: str) -> None:
    pid = api.project()
    ds = dataset(api, pid, examples(3))
    job = wait(
        api,
        start(api, pid, "tiny", {"train": {"dataset_id": ds}}, hyperparameters={"mode": mode}).json()["id"],
    )
    assert job["status"] == "Failed" and job["artifact_key"] is None
    assert ("SM_MODEL_DIR" in job["failure_reason"]) or ("OptiLoop model" in job["failure_reason"])


def test_stop_a_running_job(api: Any, trainer: Any) -> None:
    pid = api.project()
    ds = dataset(api, pid, examples(3))
    r = start(
        api, pid, "tiny", {"train": {"dataset_id": ds}}, hyperparameters={"mode": "sleep", "seconds": "60"}
    )
    job_id = r.json()["id"]
    stopped = api.client.post(f"/v1/training_jobs/{job_id}/stop", headers=api.admin)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] in ("Stopping", "Stopped")
    job = wait(api, job_id, timeout=10)
    assert job["status"] == "Stopped" and job["artifact_key"] is None
    again = api.client.post(f"/v1/training_jobs/{job_id}/stop", headers=api.admin)
    assert again.status_code == 200 and again.json()["status"] == "Stopped"


def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(api: Any, trainer: Any) -> None:
    pid, other = api.project(), api.project("other")
    ds, foreign = dataset(api, pid, examples(3)), dataset(api, other, examples(3))
    train = {"train": {"dataset_id": ds}}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"entry_point": "nope", "inputs": train}, "entry_point"),
        ({"entry_point": "../tiny", "inputs": train}, "entry_point"),
        ({"entry_point": "_lib", "inputs": train}, "entry_point"),
        ({"entry_point": "tiny", "inputs": {}}, "inputs"),
        ({"entry_point": "tiny", "inputs": {"Bad-Name": {"dataset_id": ds}}}, "inputs.Bad-Name"),
        ({"entry_point": "tiny", "inputs": {"train": {"bucket": "x"}}}, "inputs.train"),
        ({"entry_point": "tiny", "inputs": {"train": {"dataset_id": "ds_no"}}}, "inputs.train.dataset_id"),
        ({"entry_point": "tiny", "inputs": {"train": {"dataset_id": foreign}}}, "inputs.train.dataset_id"),
        ({"entry_point": "tiny", "inputs": {"train": {"project_runs": other}}}, "inputs.train.project_runs"),
        ({"entry_point": "tiny", "inputs": {"train": {"project_runs": pid}}}, "inputs.train.project_runs"),
        ({"entry_point": "tiny", "inputs": train, "hyperparameters": {"sagemaker_program": "x"}},
         "hyperparameters.sagemaker_program"),
        ({"entry_point": "tiny", "inputs": train, "instance_type": "ml.m5.large"}, "instance_type"),
        ({"entry_point": "tiny", "inputs": train, "backend": "sagemaker"}, "backend"),
    ]  # fmt: skip
    for body, field in cases:
        r = start(api, pid, inputs=body.pop("inputs"), **body)
        assert r.status_code == 422, (body, r.text)
        assert field in api.error_fields(r), (body, api.error_fields(r))
    r = start(api, pid, "tiny", train, hyperparameters={"depth": 3})  # not a string
    assert r.status_code == 422 and any("hyperparameters" in f for f in api.error_fields(r))
    r = start(api, "prj_missing", "tiny", train)
    assert r.status_code == 404
    assert api.deps.store.docs.list("training_job", pid) == []


def test_roles_viewers_read_contributors_train(api: Any, trainer: Any) -> None:
    pid, other = api.project(), api.project("other")
    ds = dataset(api, pid, examples(3))
    viewer, contributor = api.key("viewer", pid), api.key("contributor", pid)
    assert start(api, pid, "tiny", {"train": {"dataset_id": ds}}, headers=viewer).status_code == 403
    r = start(api, pid, "tiny", {"train": {"dataset_id": ds}}, headers=contributor)
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    assert api.client.get(f"/v1/training_jobs/{job_id}", headers=viewer).status_code == 200
    assert api.client.get(f"/v1/projects/{pid}/training_jobs", headers=viewer).status_code == 200
    assert api.client.post(f"/v1/training_jobs/{job_id}/stop", headers=viewer).status_code == 403
    outsider = api.key("admin", other)
    assert api.client.get(f"/v1/training_jobs/{job_id}", headers=outsider).status_code == 403
    assert api.client.get("/v1/training_jobs/tj_nope", headers=api.admin).status_code == 404
    wait(api, job_id)


def test_a_projects_jobs_are_listed_in_pages(api: Any, trainer: Any) -> None:
    pid = api.project()
    ds = dataset(api, pid, examples(3))
    ids = [start(api, pid, "tiny", {"train": {"dataset_id": ds}}).json()["id"] for _ in range(3)]
    first = api.client.get(f"/v1/projects/{pid}/training_jobs?limit=2", headers=api.admin).json()
    assert [j["id"] for j in first["items"]] == ids[:2] and first["next_after"]
    rest = api.client.get(
        f"/v1/projects/{pid}/training_jobs", params={"after": first["next_after"]}, headers=api.admin
    ).json()
    assert [j["id"] for j in rest["items"]] == ids[2:] and rest["next_after"] is None
    for job_id in ids:
        assert wait(api, job_id)["status"] == "Completed"


@pytest.mark.slow
def test_the_surrogate_trains_on_the_projects_runs(api: Any, trainer: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    rng = random.Random(1)
    params = [
        {"payload_kb": rng.randint(1, 512), "region": rng.choice(["eu", "us", "ap"]),
         "retries": rng.randint(0, 5), "timeout_s": rng.uniform(0.1, 10), "cache": rng.random() < 0.5}
        for _ in range(120)
    ]  # fmt: skip
    tids = api.add_tests(pid, len(params), params)
    runs = [
        {"test_id": t, "status": "fail" if p["payload_kb"] > 300 or p["region"] == "ap" else "pass",
         "duration_ms": 5.0, "cost_cents": 1.0, "failure_severity": 0,
         "coverage_delta": {"buckets_hit": [p["retries"], 10 + p["payload_kb"] // 100]}}
        for t, p in zip(tids, params, strict=True)
    ]  # fmt: skip
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.status_code == 200, r.text
    r = start(
        api,
        pid,
        "surrogate",
        {"runs": {"project_runs": pid}},
        hyperparameters={"n_estimators": "30", "learning_rate": "0.3"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["inputs"]["runs"]["runs"] == "120"
    job = wait(api, r.json()["id"])
    assert job["status"] == "Completed", job["failure_reason"]
    assert job["metrics"]["auc"] > 0.8 and "coverage_gain_mae" in job["metrics"]
    artifact = read_artifact(api.deps.blobs.get(job["artifact_key"]))
    assert sorted(i.name for i in artifact.signature.inputs) == sorted(api.SPACE["params"])
    assert artifact.manifest["extra_models"] == {"coverage_gain": "coverage.trees.json"}
    assert {"type": "training_job", "id": job["id"]} in walk(api.deps, "project_runs", pid)["downstream"]
    assert json.loads(artifact.files["coverage.trees.json"])["format"] == "optiloop.trees/1"
