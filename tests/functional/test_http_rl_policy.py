"""The RL suggestion policy over HTTP: trained by a real training job (training_jobs/rl_policy,
torch in a subprocess) through the experiment workflow, registered and staged, listed beside the
surrogate, and serving `generator: "rl"` (and hybrid's `rl` arm) with numpy alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from training_scripts import make_code_root

from optiloop.models.training.local import LocalTrainer
from optiloop.testopt.rl import registered
from optiloop.testopt.sut import CheckoutService

pytestmark = pytest.mark.slow
pytest.importorskip("torch")  # the training subprocess needs it (the `torch` extra)
pytest.importorskip("onnxruntime")  # registering checks the ONNX model (the `inference` extra)


@pytest.fixture
def trainer(api: Any, tmp_path: Path) -> LocalTrainer:
    t = LocalTrainer(make_code_root(tmp_path), tmp_path / "work", api.deps.blobs, stop_grace_s=1)
    api.deps.trainer = t
    registered.clear_cache()
    return t


def suggest(api: Any, pid: str, **body: Any) -> Any:
    return api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json=body)


def run_batches(api: Any, pid: str, sut: CheckoutService, batches: int, generator: str = "qmc") -> None:
    for _ in range(batches):
        r = suggest(api, pid, batch_size=20, generator=generator, seed=3)
        assert r.status_code == 200, r.text
        tests = r.json()["tests"]
        runs = [{"test_id": t["id"], **sut.run(t["params"])} for t in tests]
        r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
        assert r.status_code == 200, r.text


def wait(api: Any, execution_id: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        ex = api.client.get(f"/v1/workflow_executions/{execution_id}", headers=api.admin).json()
        if ex["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(ex)
        time.sleep(0.05)


def test_an_rl_policy_is_trained_registered_listed_and_serves_suggestions(api: Any, trainer: Any) -> None:
    sut = CheckoutService()
    pid = api.project()
    api.constrain(pid, sut.schema)
    run_batches(api, pid, sut, 3)

    r = suggest(api, pid, batch_size=5, generator="rl")
    assert r.status_code == 409 and api.error_fields(r) == ["generator"]  # no policy yet: nothing written
    assert "policies:train" in r.json()["error"]["message"]

    body = {"type": "rl", "min_runs": 20, "poll_seconds": 0, "hyperparameters": {"iterations": "8"}}
    r = api.client.post(f"/v1/projects/{pid}/policies:train", headers=api.admin, json=body)
    assert r.status_code == 202, r.text
    ex = wait(api, r.json()["id"])
    assert ex["status"] == "SUCCEEDED", (ex["events"], ex["error"])
    res = ex["results"]
    assert res["verdict"]["metric"] == "return_ratio" and res["verdict"]["value"] > 1.0
    assert res["promotion"]["stage"] == "staging"
    vid = res["version"]["model_version_id"]
    registered.clear_cache()  # the 409 above cached "no policy" for TTL_S; a new process would not

    listed = api.client.get(f"/v1/projects/{pid}/policies", headers=api.admin).json()["learned"]
    [policy] = [p for p in listed if p["type"] == "rl"]
    assert policy["model_version_id"] == vid and policy["stages"] == ["staging"]
    assert policy["serving_suggestions"] is True and policy["metrics"]["return_ratio"] > 1.0

    r = suggest(api, pid, batch_size=10, generator="rl", seed=4)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["policy_version"] == vid and len(out["tests"]) == 10
    again = suggest(api, pid, batch_size=20, generator="hybrid", seed=4)
    assert again.status_code == 200, again.text
    [*_, rec] = api.deps.store.audit.list(project_id=pid, action="tests.suggest", limit=1000)
    assert rec.details["rl_policy"]["model_version_id"] == vid and "rl" in rec.details["operator_mix"]

    bad = {"type": "rl", "min_return_ratio": 0.1}
    r = api.client.post(f"/v1/projects/{pid}/policies:train", headers=api.admin, json=bad)
    assert r.status_code == 422 and api.error_fields(r) == ["body.min_return_ratio"]
