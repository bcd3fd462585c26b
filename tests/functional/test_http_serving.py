"""Model deployments and inference over HTTP: the seed's deployment body, the split, promote and
rollback, predictions and their validation, metrics, captures and batch scoring."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.models import lineage
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, sha256_hex
from optiloop.models.records import Model, ModelVersion, model_doc, model_version_doc
from optiloop.models.serving import metrics

SIG = {
    "task": "binary",
    "classes": [0, 1],
    "id_fields": ["customer_id"],
    "inputs": [
        {"name": "age", "type": "integer"},
        {"name": "country", "type": "category", "categories": ["UK", "US"]},
        {"name": "vip", "type": "boolean", "required": False},
    ],
}


def stump(feature: int = 0, threshold: float = 40, n_outputs: int = 1, link: str = "logistic") -> dict:
    return {
        "format": "optiloop.trees/1",
        "n_features": 3,
        "n_outputs": n_outputs,
        "base_margin": [0.0] * n_outputs,
        "link": link,
        "trees": [
            {
                "output": k,
                "feature": [feature, 0, 0],
                "threshold": [threshold, 0, 0],
                "left": [1, -1, -1],
                "right": [2, -1, -1],
                "default_left": [1, 0, 0],
                "value": [0, -1.0 * (k + 1), 1.0 * (k + 1)],
            }
            for k in range(n_outputs)
        ],
    }


class Models:
    """Writes model and version documents and artifacts straight to the store, as the registry would."""

    def __init__(self, api: Any) -> None:
        self.api, self.deps = api, api.deps
        self.n = 0

    def model(self, pid: str, name: str = "churn") -> str:
        m = Model(
            id=f"mdl_{name}_{pid[-6:]}",
            project_id=pid,
            name=name,
            description="",
            created_at="t",
            created_by="test",
        )
        if self.deps.store.docs.get("model", m.id) is None:
            self.deps.store.docs.create(model_doc(m))
        return m.id

    def version(
        self,
        pid: str,
        status: str = "Registered",
        sig: dict | None = None,
        trees: dict | None = None,
        name: str = "churn",
    ) -> str:
        mid = self.model(pid, name)
        self.n += 1
        manifest = {
            "format": FORMAT,
            "framework": "xgboost",
            "runtime": "trees",
            "model_file": "model.trees.json",
            "signature": sig or SIG,
            "metrics": {"auc": 0.9},
        }
        data = pack_files(
            {
                MANIFEST: json.dumps(manifest).encode(),
                "model.trees.json": json.dumps(trees or stump()).encode(),
            }
        )
        key = f"models/{pid}/{mid}/{self.n}/model.tar.gz"
        self.deps.blobs.put(key, data)
        v = ModelVersion(
            id=f"mv_{pid[-6:]}_{self.n}",
            model_id=mid,
            project_id=pid,
            version=self.n,
            status=status,  # type: ignore[arg-type]
            artifact_key=key,
            artifact_sha256=sha256_hex(data),
            artifact_bytes=len(data),
            framework="xgboost",
            runtime="trees",
            signature=sig or SIG,
            params={},
            metrics={"auc": 0.9},
            data_fingerprint=None,
            code_version=None,
            source={"upload": "x"},
            created_at="t",
            created_by="test",
        )
        self.deps.store.docs.create(model_version_doc(v))
        return v.id

    def set_status(self, vid: str, status: str) -> None:
        doc = self.deps.store.docs.get("model_version", vid)
        self.deps.store.docs.replace(replace(doc, data={**doc.data, "status": status}), doc.rev)


@pytest.fixture
def models(api: Any) -> Models:
    return Models(api)


def deploy(api: Any, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = api.client.post("/v1/deployments", headers=api.admin, json=body)
    assert r.status_code == status, r.text
    return r.json()


def predict(api: Any, dep: str, instances: list, **kw: Any) -> Any:
    return api.client.post(
        f"/v1/inference/{dep}:predict",
        headers=kw.pop("headers", api.admin),
        json={"instances": instances, **kw},
    )


def test_deploy_predict_and_read_back(api: Any, models: Models) -> None:
    pid = api.project()
    v1 = models.version(pid)
    d = deploy(api, {"model_version_id": v1, "environment": "staging"})
    assert d["type"] == "model" and d["stable"]["model_version_id"] == v1 and d["candidate"] is None
    r = predict(
        api, d["id"], [{"customer_id": "c1", "age": 45, "country": "US"}, {"age": 20, "country": "UK"}]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictions"][0]["customer_id"] == "c1" and body["predictions"][0]["label"] == 1
    assert body["predictions"][1]["label"] == 0 and 0 < body["predictions"][1]["score"] < 0.5
    assert body["model_version_id"] == v1 and body["variant"] == "stable"
    assert body["latency_ms"] > 0 and body["request_id"]
    got = api.client.get(f"/v1/deployments/{d['id']}", headers=api.admin).json()
    assert got["id"] == d["id"] and got["environment"] == "staging"
    graph = lineage.walk(api.deps, "deployment", d["id"])
    assert {"type": "model_version", "id": v1} in graph["upstream"]
    assert [r.action for r in api.deps.store.audit.list(project_id=pid, action="model_deployment.deploy")]
    # each answer is an audit event, sealed in bulk into the project's chain, never waited on
    api.deps.store.audit.flush_events()
    [sealed] = api.deps.store.audit.list(project_id=pid, action="audit.events")
    [event] = [e for e in sealed.details["events"] if e["action"] == "inference.served"]
    assert event["details"]["request_id"] == body["request_id"] and event["details"]["model_version_id"] == v1
    assert api.deps.store.audit.verify().ok


def test_listing_holds_prompt_and_model_deployments(api: Any, models: Models) -> None:
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "qa"}).json()["id"]
    pv = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json={"body": "hi"}).json()["id"]
    deploy(api, {"prompt_version_id": pv, "environment": "dev"})
    deploy(api, {"model_version_id": models.version(pid), "environment": "staging"})
    items = api.client.get(f"/v1/projects/{pid}/deployments", headers=api.admin).json()["items"]
    assert sorted(i["type"] for i in items) == ["model", "prompt"]
    one = api.client.get(f"/v1/deployments/{prm}:dev", headers=api.admin)
    assert one.status_code == 200 and one.json()["type"] == "prompt"
    assert api.client.get("/v1/deployments/dep_nope", headers=api.admin).status_code == 404


def test_production_is_protected_and_archived_versions_never_deploy(api: Any, models: Models) -> None:
    pid = api.project()
    v1 = models.version(pid)
    before = api.audit_count()
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"model_version_id": v1, "environment": "production"}
    )
    assert r.status_code == 409 and api.error_fields(r) == ["model_version_id"] and "protected" in r.text
    archived = models.version(pid, status="Archived")
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"model_version_id": archived, "environment": "staging"}
    )
    assert r.status_code == 409 and api.error_fields(r) == ["model_version_id"]
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"model_version_id": v1, "environment": "prod"}
    )
    assert r.status_code == 422 and api.error_fields(r) == ["environment"]
    assert api.audit_count() == before  # nothing written
    models.set_status(v1, "Approved")
    assert deploy(api, {"model_version_id": v1, "environment": "production"})["protected"] is True


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        ({"type": "canary", "traffic": {"stable": 90, "canary": 20}}, "strategy.traffic"),
        ({"type": "canary", "traffic": {"stable": 90, "green": 10}}, "strategy.traffic"),
        ({"type": "canary", "traffic": {"stable": 190, "canary": -90}}, "body.strategy.traffic.stable"),
        ({"type": "rolling"}, "body.strategy.type"),
    ],
)
def test_bad_strategies_name_the_field(api: Any, models: Models, strategy: dict, field: str) -> None:
    pid = api.project()
    v1 = models.version(pid)
    before = api.audit_count()
    r = api.client.post(
        "/v1/deployments",
        headers=api.admin,
        json={"model_version_id": v1, "environment": "staging", "strategy": strategy},
    )
    assert r.status_code == 422 and field in api.error_fields(r), r.text
    assert api.audit_count() == before


def test_canary_split_is_sticky_then_promote_and_rollback(api: Any, models: Models) -> None:
    pid = api.project()
    v1, v2 = models.version(pid), models.version(pid, trees=stump(threshold=30))
    d = deploy(api, {"model_version_id": v1, "environment": "staging"})
    seed_body = {
        "model_version_id": v2,
        "environment": "staging",
        "strategy": {"type": "canary", "traffic": {"stable": 50, "canary": 50}},
        "slos": {"latencyMsP95": 500, "errorRatePct": 1.0},
    }
    c = deploy(api, seed_body)
    assert c["id"] == d["id"] and c["candidate"]["model_version_id"] == v2
    inst = [{"age": 35, "country": "UK"}]
    seen = {}
    for k in range(40):
        first = predict(api, d["id"], inst, key=f"user-{k}").json()
        again = predict(api, d["id"], inst, headers={**api.admin, "OptiLoop-Routing-Key": f"user-{k}"}).json()
        assert first["variant"] == again["variant"]  # the body key and the header key agree, and stick
        seen[first["variant"]] = first["model_version_id"]
    assert seen == {"stable": v1, "canary": v2}
    p = api.client.post(f"/v1/deployments/{d['id']}/promote", headers=api.admin)
    assert (
        p.status_code == 200
        and p.json()["stable"]["model_version_id"] == v2
        and p.json()["candidate"] is None
    )
    r = api.client.post(f"/v1/deployments/{d['id']}/rollback", headers=api.admin)
    assert r.status_code == 200 and r.json()["stable"]["model_version_id"] == v1
    assert [h["action"] for h in r.json()["history"]] == ["deploy", "canary", "promote", "rollback"]
    none = api.client.post(f"/v1/deployments/{d['id']}/promote", headers=api.admin)
    assert none.status_code == 409


def test_bad_instances_are_clear_4xx(api: Any, models: Models) -> None:
    pid = api.project()
    d = deploy(api, {"model_version_id": models.version(pid), "environment": "staging"})["id"]
    ok = {"age": 30, "country": "UK"}
    r = predict(api, d, [ok, ok, ok, {"country": "UK"}])
    assert r.status_code == 422 and api.error_fields(r) == ["instances[3].age"]
    r = predict(api, d, [ok, {"age": "old", "country": "UK"}])
    assert r.status_code == 422 and api.error_fields(r) == ["instances[1].age"]
    r = predict(api, d, [])
    assert r.status_code == 422 and api.error_fields(r) == ["instances"]
    r = api.client.post(f"/v1/inference/{d}:predict", headers=api.admin, json={"rows": [ok]})
    assert r.status_code == 422
    r = predict(api, "dep_missing", [ok])
    assert r.status_code == 404 and api.error_fields(r) == ["deployment_id"]


def test_too_many_instances_and_a_100_mb_request(api: Any, models: Models, deps: Any) -> None:
    pid = api.project()
    d = deploy(api, {"model_version_id": models.version(pid), "environment": "staging"})["id"]
    big = Settings(backend="memory", admin_token=api.ADMIN_TOKEN, max_body_bytes=8 * 1024 * 1024)
    with TestClient(create_app(deps, big)) as c:
        r = c.post(
            f"/v1/inference/{d}:predict",
            headers=api.admin,
            json={"instances": [{"age": 1, "country": "UK"}] * 10_001},
        )
        assert r.status_code == 422 and "at most 10000" in r.text
        huge = b'{"instances": [' + b'{"age": 1},' * (100 * 1024 * 1024 // 11) + b'{"age": 1}]}'
        r = c.post(
            f"/v1/inference/{d}:predict",
            headers={**api.admin, "Content-Type": "application/json"},
            content=huge,
        )
        assert r.status_code == 413


def test_an_archived_version_stops_serving(api: Any, models: Models) -> None:
    pid = api.project()
    v1 = models.version(pid)
    d = deploy(api, {"model_version_id": v1, "environment": "staging"})["id"]
    models.set_status(v1, "Archived")
    r = predict(api, d, [{"age": 30, "country": "UK"}])
    assert r.status_code == 409 and api.error_fields(r) == ["model_version_id"]


def test_multiclass_and_regression_answers(api: Any, models: Models) -> None:
    pid = api.project()
    multi = {**SIG, "task": "multiclass", "classes": ["a", "b", "c"]}
    vm = models.version(pid, sig=multi, trees=stump(n_outputs=3, link="softmax"), name="kind")
    reg = {k: v for k, v in SIG.items() if k != "classes"} | {"task": "regression"}
    vr = models.version(pid, sig=reg, trees=stump(link="identity"), name="spend")
    dm = deploy(api, {"model_version_id": vm, "environment": "staging"})["id"]
    dr = deploy(api, {"model_version_id": vr, "environment": "staging"})["id"]
    p = predict(api, dm, [{"age": 50, "country": "US"}]).json()["predictions"][0]
    assert p["label"] == "c" and set(p["probabilities"]) == {"a", "b", "c"}
    assert abs(sum(p["probabilities"].values()) - 1) < 1e-5
    assert predict(api, dr, [{"age": 50, "country": "US"}]).json()["predictions"][0]["value"] == 1.0


def test_metrics_per_variant_and_captures(api: Any, models: Models) -> None:
    pid = api.project()
    v1, v2 = models.version(pid), models.version(pid)
    d = deploy(api, {"model_version_id": v1, "environment": "staging", "capture_rate": 1.0})["id"]
    deploy(
        api,
        {
            "model_version_id": v2,
            "environment": "staging",
            "capture_rate": 1.0,
            "strategy": {"type": "shadow", "traffic": {"stable": 0, "shadow": 100}},
        },
    )
    for k in range(5):
        r = predict(api, d, [{"age": 30 + k, "country": "UK", "customer_id": f"c{k}"}])
        assert r.json()["variant"] == "stable" and r.json()["model_version_id"] == v1  # shadow never answers
    m = api.client.get(f"/v1/deployments/{d}/metrics", headers=api.admin).json()
    five = m["windows"]["5m"]
    assert five["stable"]["requests"] == 5 and five["shadow"]["requests"] == 5
    assert five["stable"]["errors"] == 0 and five["stable"]["latency_ms"]["p95"] > 0
    caps = api.deps.store.docs.list("inference_capture", d, limit=100)
    stable = [c.data for c in caps if c.data["variant"] == "stable"]
    assert len(stable) == 5 and stable[0]["keys"] == ["c0"] and len(stable[0]["features"][0]) == 3
    assert all(c.expires_at for c in caps) and {c.data["variant"] for c in caps} == {"stable", "shadow"}
    assert not api.deps.store.audit.list(project_id=pid, action="model.predict")  # never the audit chain


def test_batch_scoring_of_a_dataset(api: Any, models: Models) -> None:
    pid = api.project()
    d = deploy(api, {"model_version_id": models.version(pid), "environment": "staging"})["id"]
    ds = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "golden"}).json()
    examples = [{"id": f"e{i}", "input": {"age": 20 + i, "country": "US"}, "expected": 1} for i in range(30)]
    examples.append({"id": "bad", "input": {"country": "US"}, "expected": 0})
    r = api.client.post(f"/v1/datasets/{ds['id']}/examples", headers=api.admin, json={"examples": examples})
    assert r.status_code in (200, 201), r.text
    job = api.client.post(f"/v1/deployments/{d}/batch", headers=api.admin, json={"dataset_id": ds["id"]})
    assert job.status_code == 202, job.text
    assert job.json()["status"] == "Completed" and job.json()["rows"] == 31 and job.json()["errors"] == 1
    got = api.client.get(f"/v1/deployments/{d}/batch/{job.json()['id']}", headers=api.admin).json()
    lines = [json.loads(x) for x in api.deps.blobs.get(got["output_key"]).decode().splitlines()]
    assert len(lines) == 31 and lines[-1]["error"]["field"] == "input.age"
    assert lines[0] == {"id": "e0", "prediction": {"label": 0, "score": lines[0]["prediction"]["score"]}}


def test_slo_breach_rolls_the_canary_back_and_is_audited(api: Any, models: Models) -> None:
    pid = api.project()
    v1, v2 = models.version(pid), models.version(pid)
    d = deploy(api, {"model_version_id": v1, "environment": "staging"})["id"]
    deploy(
        api,
        {
            "model_version_id": v2,
            "environment": "staging",
            "slos": {"errorRatePct": 5},
            "strategy": {"type": "canary", "traffic": {"stable": 90, "canary": 10}},
        },
    )
    now = api.deps.clock()
    for k in range(30):
        metrics.RECORDER.record(d, "canary", v2, now, 3.0, 1, error=k % 3 == 0)
    api.client.get(f"/v1/deployments/{d}/metrics", headers=api.admin)  # flushes
    from optiloop.models.serving.deployments import enforce_slos

    rolled = enforce_slos(api.deps, d)
    assert rolled is not None and rolled.candidate is None and rolled.stable["model_version_id"] == v1
    [audit] = api.deps.store.audit.list(project_id=pid, action="model_deployment.auto_rollback")
    assert "error rate" in audit.details["reason"] and audit.principal == "optiloop:slo-guard"


def test_undeploy_a_model_frees_its_slot_and_stops_predictions(api: Any, models: Models) -> None:
    pid = api.project()
    v1 = models.version(pid, status="Approved")
    d = deploy(api, {"model_version_id": v1, "environment": "production"})
    contributor = api.key("contributor", pid)
    r = api.client.delete(f"/v1/deployments/{d['id']}", headers=contributor)
    assert r.status_code == 403 and api.error_fields(r) == ["role"]  # production: admins only
    assert api.client.delete(f"/v1/projects/{pid}", headers=api.admin).status_code == 409
    body = {"type": "performance", "metric": "accuracy", "threshold": 0.5, "window": {"rows": 200}}
    r = api.client.post(f"/v1/monitoring/{d['id']}/monitors", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    monitor = r.json()["id"]

    assert api.client.delete(f"/v1/deployments/{d['id']}?reason=sunset", headers=api.admin).status_code == 204
    from optiloop.models.monitoring.schedule import due_monitor_ids

    assert monitor not in due_monitor_ids(api.deps, "9999")[1]  # nothing serves: nothing to watch
    assert api.deps.store.docs.get("model_monitor", monitor).data["status"] == "stopped"
    assert predict(api, d["id"], [{"age": 45, "country": "US"}]).status_code == 404
    r = api.client.get(f"/v1/deployments/{d['id']}", headers=api.admin)
    assert r.status_code == 404 and "was deleted at" in r.json()["error"]["message"]
    for path in ("promote", "rollback"):
        assert api.client.post(f"/v1/deployments/{d['id']}/{path}", headers=api.admin).status_code == 404
    assert api.client.get(f"/v1/projects/{pid}/deployments", headers=api.admin).json()["items"] == []
    [rec] = api.deps.store.audit.list(project_id=pid, action="model_deployment.undeploy")
    assert rec.details["reason"] == "sunset" and rec.details["from"]["stable"] == v1
    assert rec.details["monitors_stopped"] == [monitor]
    again = deploy(api, {"model_version_id": v1, "environment": "production"})  # the slot is free
    assert again["id"] != d["id"] and [h["action"] for h in again["history"]] == ["deploy"]
    assert api.client.delete(f"/v1/deployments/{again['id']}", headers=api.admin).status_code == 204
    assert api.client.delete(f"/v1/projects/{pid}", headers=api.admin).status_code == 204
