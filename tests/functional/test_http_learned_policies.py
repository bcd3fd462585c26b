"""The first consumer of the model lifecycle: the test-optimisation surrogate, trained by a real
training job (training_jobs/surrogate, xgboost in a subprocess), evaluated, registered, staged, and
picked up by suggest only while it ranks recent failures at least as well as the in-process model."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from training_scripts import make_code_root

from optiloop.models.training.local import LocalTrainer
from optiloop.testopt.surrogate import trained as trained_surrogate

pytestmark = pytest.mark.slow


@pytest.fixture
def trainer(api: Any, tmp_path: Path) -> LocalTrainer:
    t = LocalTrainer(make_code_root(tmp_path), tmp_path / "work", api.deps.blobs, stop_grace_s=1)
    api.deps.trainer = t
    trained_surrogate.clear_cache()
    return t


def params(rng: random.Random) -> dict[str, Any]:
    return {
        "payload_kb": rng.randint(1, 512),
        "region": rng.choice(["eu", "us"]),
        "retries": rng.randint(0, 5),
        "timeout_s": round(rng.uniform(0.1, 10.0), 3),
        "cache": rng.random() < 0.5,
    }


def fails(p: dict[str, Any]) -> bool:
    """The system's bug: big payloads to the us region without a cache."""
    return p["payload_kb"] > 300 and p["region"] == "us" and not p["cache"]


def ingest(api: Any, pid: str, n: int, seed: int, invert: bool = False) -> None:
    rng = random.Random(seed)
    ps = [params(rng) for _ in range(n)]
    ids = api.add_tests(pid, n, ps)
    runs = [
        {
            "test_id": t,
            "status": "fail" if fails(p) != invert else "pass",
            "coverage_delta": {"buckets_hit": [i % 7]},
        }
        for i, (t, p) in enumerate(zip(ids, ps, strict=True))
    ]
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})
    assert r.status_code == 200, r.text


def wait(api: Any, execution_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        ex = api.client.get(f"/v1/workflow_executions/{execution_id}", headers=api.admin).json()
        if ex["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(ex)
        time.sleep(0.05)


def suggest(api: Any, pid: str) -> dict[str, Any]:
    r = api.client.post(
        f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json={"batch_size": 10, "generator": "hybrid"}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def last_decision(api: Any, pid: str) -> dict[str, Any]:
    [*_, rec] = api.deps.store.audit.list(project_id=pid, action="tests.suggest", limit=1000)
    return dict(rec.details["registered_surrogate"])


def test_a_trained_surrogate_is_registered_staged_and_used_while_it_earns_it(api: Any, trainer: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    ingest(api, pid, 160, seed=1)

    r = api.client.post(
        f"/v1/projects/{pid}/policies:train", headers=api.admin, json={"min_runs": 20, "poll_seconds": 0}
    )
    assert r.status_code == 202, r.text
    ex = wait(api, r.json()["id"])
    assert ex["status"] == "SUCCEEDED", (ex["events"], ex["error"])
    res = ex["results"]
    assert res["verdict"]["outcome"] == "register" and res["verdict"]["value"] > 0.8  # held-out failure AUC
    assert res["promotion"]["stage"] == "staging"
    vid = res["version"]["model_version_id"]

    listed = api.client.get(f"/v1/projects/{pid}/policies", headers=api.admin).json()
    [policy] = listed["learned"]
    assert policy["type"] == "surrogate" and policy["model_version_id"] == vid
    assert policy["stages"] == ["staging"] and policy["serving_suggestions"] is True
    assert policy["metrics"]["auc"] == res["verdict"]["value"] and policy["artifact"]["sha256"]

    out = suggest(api, pid)
    assert out["surrogate_version"] == vid  # a real registry version names what scored the batch
    assert last_decision(api, pid)["use_trained"] is True
    reported = trained_surrogate.take_reported()  # what the suggest Lambda turns into metrics
    assert reported[pid].use_trained is True
    cov = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()["surrogate"]
    assert cov["model_version_id"] == vid and cov["alias"] == "staging"
    assert cov["registered_auc"] == res["verdict"]["value"] and cov["recent_runs"] == 0

    # the system changes: what failed now passes and the reverse; the registered model is now wrong
    # on every run it has not seen, the in-process one learns it, and suggest stops using the former
    ingest(api, pid, 60, seed=2, invert=True)
    out = suggest(api, pid)
    decision = last_decision(api, pid)
    assert decision["use_trained"] is False and decision["trained_auc"] < decision["in_process_auc"]
    assert out["surrogate_version"] != vid
    cov = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()["surrogate"]
    assert cov["recent_runs"] == 60 and cov["recent_auc"] < 0.5  # the coverage report shows it too

    # training again on everything: the new candidate must beat what production holds (nothing yet)
    again = wait(
        api,
        api.client.post(
            f"/v1/projects/{pid}/policies:train", headers=api.admin, json={"min_runs": 20, "poll_seconds": 0}
        ).json()["id"],
    )
    assert again["status"] == "SUCCEEDED" and again["results"]["version"]["version"] == 2


def test_too_few_runs_and_bad_bodies(api: Any, trainer: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    ingest(api, pid, 12, seed=3)
    r = api.client.post(f"/v1/projects/{pid}/policies:train", headers=api.admin, json={"poll_seconds": 0})
    ex = wait(api, r.json()["id"])
    assert ex["status"] == "SUCCEEDED" and ex["current_state"] == "Skipped"  # 12 < the default 50
    assert api.client.get(f"/v1/projects/{pid}/policies", headers=api.admin).json()["learned"] == []
    bad = api.client.post(f"/v1/projects/{pid}/policies:train", headers=api.admin, json={"type": "bandit"})
    assert bad.status_code == 422 and "type" in api.error_fields(bad)[0]
    viewer = api.key("viewer", pid)
    assert api.client.post(f"/v1/projects/{pid}/policies:train", headers=viewer).status_code == 403
