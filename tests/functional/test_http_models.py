"""The model registry over HTTP: registration (upload, training job), immutability, stages and
aliases, approvals with four eyes and the seed's policy gate, rollback, history, lineage, cards."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from optiloop.models.artifact import FORMAT, MANIFEST, pack_files
from optiloop.models.records import TrainingJob, job_doc

SIG = {
    "task": "binary",
    "classes": [0, 1],
    "inputs": [
        {"name": "age", "type": "integer"},
        {"name": "country", "type": "category", "categories": ["UK", "US"]},
    ],
}
STUMP = {
    "format": "optiloop.trees/1",
    "n_features": 2,
    "n_outputs": 1,
    "base_margin": [0.0],
    "link": "logistic",
    "trees": [
        {
            "output": 0,
            "feature": [0, 0, 0],
            "threshold": [40, 0, 0],
            "left": [1, -1, -1],
            "right": [2, -1, -1],
            "default_left": [1, 0, 0],
            "value": [0, -1.0, 1.0],
        }
    ],
}
GOOD = {"auc": 0.93, "fairness.demographic_parity": 0.04, "ece": 0.02}
SEED_POLICY = {
    "name": "prod-approval-policy",
    "scope": "model_version",
    "rule": {
        "if": {
            "metrics.auc": {">=": 0.9},
            "fairness.demographic_parity": {"<=": 0.1},
            "calibration.ece": {"<=": 0.05},
        },
        "then": "require_approval",
        "approvers": ["risk_officer", "mlops_admin"],
    },
}


def artifact(
    metrics: dict | None = None, sig: dict | None = None, trees: dict | None = None, **extra: Any
) -> bytes:
    manifest = {
        "format": FORMAT,
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "model.trees.json",
        "signature": sig or SIG,
        "params": {"max_depth": 1},
        "metrics": GOOD if metrics is None else metrics,
        "data_fingerprint": "sha256:" + "d" * 64,
        "code_version": "abc123",
        **extra,
    }
    return pack_files(
        {MANIFEST: json.dumps(manifest).encode(), "model.trees.json": json.dumps(trees or STUMP).encode()}
    )


def upload(api: Any, mid: str, who: dict, data: bytes, **body: Any) -> Any:
    payload = {
        "artifact_base64": base64.b64encode(data).decode(),
        "sha256": hashlib.sha256(data).hexdigest(),
        **body,
    }
    return api.client.post(f"/v1/models/{mid}/versions", headers=who, json=payload)


def setup(api: Any) -> tuple[str, str, dict, dict, dict]:
    pid = api.project()
    alice = api.key("contributor", pid, principal="alice")
    bob = api.key("admin", pid, principal="bob")
    carol = api.key("admin", pid, principal="carol")
    r = api.client.post(
        "/v1/models", headers=alice, json={"project_id": pid, "name": "churn", "tags": {"team": "x"}}
    )
    assert r.status_code == 201, r.text
    return pid, r.json()["id"], alice, bob, carol


def registered(api: Any, mid: str, who: dict, **kw: Any) -> dict:
    r = upload(
        api, mid, who, artifact(**kw), card={"sensitive_column": "country", "intended_use": "churn triage"}
    )
    assert r.status_code == 201, r.text
    return r.json()


def approve(api: Any, vid: str, author: dict, approver: dict) -> None:
    s = api.client.post(
        "/v1/approvals", headers=author, json={"entity_type": "model_version", "entity_id": vid}
    )
    assert s.status_code == 201, s.text
    d = api.client.post(
        f"/v1/approvals/{s.json()['id']}/decisions", headers=approver, json={"decision": "approve"}
    )
    assert d.status_code == 200 and d.json()["status"] == "approved", d.text


def test_model_names_are_unique_per_project_and_listed(api: Any) -> None:
    pid, mid, alice, _, _ = setup(api)
    again = api.client.post("/v1/models", headers=alice, json={"project_id": pid, "name": "churn"})
    assert again.status_code == 409 and api.error_fields(again) == ["name"]
    listed = api.client.get(f"/v1/models?project_id={pid}", headers=alice).json()["items"]
    assert [m["id"] for m in listed] == [mid]
    assert api.client.get(f"/v1/models/{mid}", headers=alice).json()["tags"] == {"team": "x"}
    other = api.key("admin", api.project("other"))
    assert api.client.get(f"/v1/models/{mid}", headers=other).status_code == 403


def test_register_from_upload_is_immutable_and_audited(api: Any) -> None:
    pid, mid, alice, _, _ = setup(api)
    data = artifact()
    r = upload(api, mid, alice, data)
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["version"] == 1 and v["status"] == "Registered" and v["runtime"] == "trees"
    assert v["artifact_sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert v["artifact_key"] == f"models/{pid}/{mid}/{v['id']}/model.tar.gz"
    assert api.deps.blobs.get(v["artifact_key"]) == data
    assert (
        v["metrics"]["auc"] == 0.93 and v["code_version"] == "abc123" and v["signature"]["task"] == "binary"
    )
    v2 = upload(api, mid, alice, artifact(metrics={"auc": 0.95})).json()
    assert v2["version"] == 2
    assert api.client.get(f"/v1/models/{mid}/versions/1", headers=alice).json() == {**v, "aliases": []}
    assert api.client.get(f"/v1/models/{mid}/versions/{v['id']}", headers=alice).json()["version"] == 1
    assert api.client.get(f"/v1/models/{mid}/versions/latest", headers=alice).json()["version"] == 2
    items = api.client.get(f"/v1/models/{mid}/versions", headers=alice).json()["items"]
    assert [i["version"] for i in items] == [1, 2]
    # no route changes a version's content
    assert api.client.put(f"/v1/models/{mid}/versions/1", headers=alice, json={}).status_code == 405
    assert api.client.patch(f"/v1/models/{mid}/versions/1", headers=alice, json={}).status_code == 405
    rec = api.deps.store.audit.list(project_id=pid, action="model_version.registered")
    assert [x.target for x in rec] == [v["id"], v2["id"]]
    assert rec[0].details["card"]["json_sha256"] == v["card_sha256"]


def test_raw_gzip_upload(api: Any) -> None:
    _, mid, alice, _, _ = setup(api)
    data = artifact()
    sha = hashlib.sha256(data).hexdigest()
    r = api.client.post(
        f"/v1/models/{mid}/versions:upload?sha256={sha}",
        headers={**alice, "Content-Type": "application/gzip"},
        content=data,
    )
    assert r.status_code == 201, r.text
    bad = api.client.post(
        f"/v1/models/{mid}/versions:upload",
        headers={**alice, "Content-Type": "application/gzip", "X-Artifact-SHA256": "0" * 64},
        content=data,
    )
    assert bad.status_code == 422 and api.error_fields(bad) == ["sha256"]


def test_bad_artifacts_are_422_and_leave_nothing(api: Any) -> None:
    _, mid, alice, _, _ = setup(api)
    before = (api.audit_count(), len(api.deps.blobs.list("models/")))
    data = artifact()
    mismatch = api.client.post(
        f"/v1/models/{mid}/versions",
        headers=alice,
        json={"artifact_base64": base64.b64encode(data).decode(), "sha256": "sha256:" + "0" * 64},
    )
    assert mismatch.status_code == 422 and api.error_fields(mismatch) == ["sha256"]
    junk = upload(api, mid, alice, b"not a tarball at all")
    assert junk.status_code == 422 and api.error_fields(junk) == ["artifact"]
    multiclass = {**SIG, "task": "multiclass", "classes": ["a", "b", "c"]}
    wrong_sig = upload(api, mid, alice, artifact(sig=multiclass))
    assert wrong_sig.status_code == 422 and api.error_fields(wrong_sig) == ["artifact.signature"]
    few_inputs = {**SIG, "inputs": SIG["inputs"][:1]}
    wrong_inputs = upload(api, mid, alice, artifact(sig=few_inputs))
    assert wrong_inputs.status_code == 422 and api.error_fields(wrong_inputs) == ["artifact.signature.inputs"]
    b64 = api.client.post(f"/v1/models/{mid}/versions", headers=alice, json={"artifact_base64": "***"})
    assert b64.status_code == 422 and api.error_fields(b64) == ["artifact_base64"]
    assert (api.audit_count(), len(api.deps.blobs.list("models/"))) == before
    assert api.client.get(f"/v1/models/{mid}", headers=alice).json()["latest_version"] == 0


def test_register_from_training_job(api: Any) -> None:
    pid, mid, alice, _, _ = setup(api)
    data = artifact()
    key = f"models/{pid}/job_1/output/model.tar.gz"
    api.deps.blobs.put(key, data)

    def job(jid: str, status: str, sha: str | None = None) -> None:
        j = TrainingJob(
            id=jid, project_id=pid, entry_point="surrogate", backend="local", instance_type="local",
            hyperparameters={"max_depth": "3"}, inputs={}, status=status,  # type: ignore[arg-type]
            created_at="2026-01-01T00:00:00.000Z", created_by="alice",
            metrics={"auc": 0.91, "train_rows": 1200},
            artifact_key=key, artifact_sha256=sha or hashlib.sha256(data).hexdigest(),
            data_fingerprint="sha256:" + "f" * 64, code_version="code-1",
        )  # fmt: skip
        api.deps.store.docs.create(job_doc(j))

    job("tj_running", "InProgress")
    r = api.client.post(f"/v1/models/{mid}/versions", headers=alice, json={"training_job_id": "tj_running"})
    assert r.status_code == 409 and api.error_fields(r) == ["training_job_id"]
    job("tj_tampered", "Completed", sha="1" * 64)
    r = api.client.post(f"/v1/models/{mid}/versions", headers=alice, json={"training_job_id": "tj_tampered"})
    assert r.status_code == 422 and api.error_fields(r) == ["training_job_id"]
    job("tj_ok", "Completed")
    r = api.client.post(f"/v1/models/{mid}/versions", headers=alice, json={"training_job_id": "tj_ok"})
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["source"] == {"training_job_id": "tj_ok"} and v["data_fingerprint"] == "sha256:" + "f" * 64
    assert v["code_version"] == "code-1" and v["metrics"]["auc"] == 0.93  # the artifact's held-out metrics
    assert v["artifact_key"].startswith(f"models/{pid}/{mid}/")
    dup = api.client.post(f"/v1/models/{mid}/versions", headers=alice, json={"training_job_id": "tj_ok"})
    assert dup.status_code == 409 and "version 1" in dup.json()["error"]["message"]
    card = api.client.get(f"/v1/models/{mid}/versions/1/card", headers=alice).json()
    assert card["data"] == {"fingerprint": "sha256:" + "f" * 64, "rows": 1200}
    # lineage both ways
    down = api.client.get("/v1/lineage/training_job/tj_ok", headers=alice)
    assert down.status_code == 200, down.text
    assert {"type": "model_version", "id": v["id"]} in down.json()["downstream"]
    up = api.client.get(f"/v1/lineage/model_version/{v['id']}", headers=alice).json()
    assert {"type": "training_job", "id": "tj_ok"} in up["upstream"] and {"type": "model", "id": mid} in up[
        "upstream"
    ]
    assert up["project_id"] == pid and up["downstream"] == []
    other = api.key("admin", api.project("other"))
    assert api.client.get(f"/v1/lineage/model_version/{v['id']}", headers=other).status_code == 403
    assert api.client.get("/v1/lineage/model_version/mv_nope", headers=alice).status_code == 404
    assert api.client.get("/v1/lineage/spaceship/x", headers=alice).status_code == 422


def test_staging_and_production_needs_four_eyes_approval(api: Any) -> None:
    pid, mid, alice, bob, _ = setup(api)
    v = registered(api, mid, alice)
    s = api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json={"stage": "staging"})
    assert s.status_code == 200 and s.json()["model"]["aliases"] == {"staging": v["id"]}
    p = api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json={"stage": "production"})
    assert p.status_code == 409
    msg = p.json()["error"]["message"]
    assert v["id"] in msg and "Approved" in msg and p.json()["error"]["details"][0]["missing"] == "approval"
    sub = api.client.post(
        "/v1/approvals", headers=alice, json={"entity_type": "model_version", "entity_id": v["id"]}
    )
    assert sub.status_code == 201, sub.text
    assert sub.json()["evidence"]["content_hash"] == v["artifact_sha256"]
    own = api.client.post(
        f"/v1/approvals/{sub.json()['id']}/decisions", headers=alice, json={"decision": "approve"}
    )
    assert own.status_code == 403
    alice_admin = api.key("admin", pid, principal="alice")
    own = api.client.post(
        f"/v1/approvals/{sub.json()['id']}/decisions", headers=alice_admin, json={"decision": "approve"}
    )
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]["message"]
    ok = api.client.post(
        f"/v1/approvals/{sub.json()['id']}/decisions", headers=bob, json={"decision": "approve"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "approved", ok.text
    assert api.client.get(f"/v1/models/{mid}/versions/1", headers=alice).json()["status"] == "Approved"
    p = api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json={"stage": "production"})
    assert p.status_code == 200, p.text
    got = api.client.get(f"/v1/models/{mid}/versions/production", headers=alice).json()
    assert got["id"] == v["id"] and got["aliases"] == ["production", "staging"]
    assert [r.action for r in api.deps.store.audit.list(project_id=pid) if r.action.startswith("model.")] == [
        "model.created",
        "model.promoted",
        "model.promoted",
    ]


def test_seed_policy_gates_on_metrics_card_numbers_and_named_approvers(api: Any) -> None:
    pid, mid, alice, bob, _ = setup(api)
    r = api.client.post(f"/v1/policies?project_id={pid}", headers=api.admin, json=SEED_POLICY)
    assert r.status_code == 201, r.text
    assert api.client.get(f"/v1/policies?project_id={pid}", headers=alice).json()["items"][0]["name"] == (
        "prod-approval-policy"
    )
    weak = registered(
        api, mid, alice, metrics={"auc": 0.85, "fairness.demographic_parity": 0.04, "ece": 0.02}
    )
    blocked = api.client.post(
        "/v1/approvals", headers=alice, json={"entity_type": "model_version", "entity_id": weak["id"]}
    )
    assert blocked.status_code == 409
    msg = blocked.json()["error"]["message"]
    assert "prod-approval-policy" in msg and "metrics.auc >= 0.9" in msg and "0.85" in msg
    unfair = registered(
        api, mid, alice, metrics={"auc": 0.95, "fairness.demographic_parity": 0.2, "ece": 0.02}
    )
    blocked = api.client.post(
        "/v1/approvals", headers=alice, json={"entity_type": "model_version", "entity_id": unfair["id"]}
    )
    assert blocked.status_code == 409 and "fairness.demographic_parity" in blocked.json()["error"]["message"]
    good = registered(api, mid, alice)
    sub = api.client.post(
        "/v1/approvals", headers=alice, json={"entity_type": "model_version", "entity_id": good["id"]}
    )
    assert sub.status_code == 201, sub.text
    assert sub.json()["requirements"] == [
        {"policy": "prod-approval-policy", "approvers": ["risk_officer", "mlops_admin"], "min_approvals": 1}
    ]
    assert sub.json()["evidence"]["calibration"] == {"ece": 0.02}
    dave = api.key("contributor", pid, principal="dave")
    no = api.client.post(
        f"/v1/approvals/{sub.json()['id']}/decisions", headers=dave, json={"decision": "approve"}
    )
    assert no.status_code == 403
    ok = api.client.post(
        f"/v1/approvals/{sub.json()['id']}/decisions", headers=bob, json={"decision": "approve"}
    )
    assert ok.json()["status"] == "approved"
    p = api.client.post(
        f"/v1/models/{mid}/versions/{good['id']}/promote", headers=alice, json={"stage": "production"}
    )
    assert p.status_code == 200, p.text


def test_aliases_rollback_and_history(api: Any) -> None:
    _, mid, alice, bob, _ = setup(api)
    vs = [registered(api, mid, alice) for _ in range(3)]
    for v in vs:
        approve(api, v["id"], alice, bob)
        r = api.client.post(
            f"/v1/models/{mid}/versions/{v['version']}/promote", headers=alice, json={"stage": "production"}
        )
        assert r.status_code == 200, r.text
    champ = api.client.post(f"/v1/models/{mid}/versions/2/promote", headers=alice, json={"alias": "champion"})
    assert champ.status_code == 200
    assert api.client.get(f"/v1/models/{mid}/versions/champion", headers=alice).json()["version"] == 2
    bad = api.client.post(f"/v1/models/{mid}/versions/2/promote", headers=alice, json={"alias": "production"})
    assert bad.status_code == 422 and api.error_fields(bad) == ["alias"]
    back = api.client.post(f"/v1/models/{mid}/rollback", headers=alice, json={"stage": "production"})
    assert back.status_code == 200, back.text
    assert back.json()["event"]["version"] == 2 and back.json()["event"]["previous_version"] == 3
    back = api.client.post(f"/v1/models/{mid}/rollback", headers=alice, json={"stage": "production"})
    assert back.json()["event"]["version"] == 1
    none_left = api.client.post(f"/v1/models/{mid}/rollback", headers=alice, json={"stage": "production"})
    assert none_left.status_code == 409 and api.error_fields(none_left) == ["to_version"]
    fwd = api.client.post(
        f"/v1/models/{mid}/rollback", headers=alice, json={"stage": "production", "to_version": 3}
    )
    assert fwd.status_code == 200 and fwd.json()["model"]["aliases"]["production"] == vs[2]["id"]
    hist = api.client.get(f"/v1/models/{mid}/history?name=production", headers=alice).json()["items"]
    assert [(h["action"], h["version"]) for h in hist] == [
        ("promote", 1), ("promote", 2), ("promote", 3), ("rollback", 2), ("rollback", 1), ("rollback", 3),
    ]  # fmt: skip
    assert all(h["by"] == "alice-user" or h["by"] == "alice" for h in hist)
    everything = api.client.get(f"/v1/models/{mid}/history", headers=alice).json()["items"]
    assert [h["seq"] for h in everything] == list(range(1, 8))


def test_archived_versions_cannot_be_promoted(api: Any) -> None:
    _, mid, alice, bob, _ = setup(api)
    v = registered(api, mid, alice)
    approve(api, v["id"], alice, bob)
    api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json={"alias": "champion"})
    a = api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json={"stage": "archived"})
    assert a.status_code == 200 and a.json()["removed_from"] == ["champion"]
    assert a.json()["model"]["aliases"] == {}
    got = api.client.get(f"/v1/models/{mid}/versions/1", headers=alice).json()
    assert got["status"] == "Archived" and got["aliases"] == []
    for target in ({"stage": "staging"}, {"stage": "production"}, {"alias": "champion"}):
        r = api.client.post(f"/v1/models/{mid}/versions/1/promote", headers=alice, json=target)
        assert r.status_code == 409 and "archived" in r.json()["error"]["message"], target
    back = api.client.post(
        f"/v1/models/{mid}/rollback", headers=alice, json={"alias": "champion", "to_version": 1}
    )
    assert back.status_code == 409


def test_model_card_json_and_markdown(api: Any) -> None:
    _, mid, alice, _, _ = setup(api)
    v = registered(api, mid, alice)
    r = api.client.get(f"/v1/models/{mid}/versions/1/card", headers=alice)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    card = r.json()
    assert "sha256:" + hashlib.sha256(r.content).hexdigest() == v["card_sha256"]
    assert card["intended_use"] == "churn triage" and card["metrics"] == {"auc": 0.93}
    assert card["calibration"] == {"ece": 0.02}
    assert card["fairness"]["sensitive_column"] == "country"
    assert card["fairness"]["metrics"] == {"demographic_parity": 0.04}
    md = api.client.get(f"/v1/models/{mid}/versions/1/card", headers={**alice, "Accept": "text/markdown"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Model card: churn v1") and "| auc | 0.93 |" in md.text
    plain = upload(api, mid, alice, artifact(metrics={"auc": 0.8})).json()
    card2 = api.client.get(f"/v1/models/{mid}/versions/{plain['id']}/card", headers=alice).json()
    assert card2["fairness"]["assessed"] is False and card2["calibration"] == {}
    assert any("Calibration was not measured" in x for x in card2["limitations"])


def test_old_policy_routes_still_work_but_are_deprecated(api: Any) -> None:
    pid = api.project()
    r = api.client.post(f"/v1/projects/{pid}/policies", headers=api.admin, json=SEED_POLICY)
    assert r.status_code == 201 and r.headers["deprecation"].startswith("@")
    assert '</v1/policies>; rel="successor-version"' in r.headers["link"]
    listed = api.client.get(f"/v1/policies?project_id={pid}", headers=api.admin).json()["items"]
    assert [p["name"] for p in listed] == ["prod-approval-policy"]
    assert "deprecation" not in api.client.get(f"/v1/policies?project_id={pid}", headers=api.admin).headers
    missing = api.client.post("/v1/policies", headers=api.admin, json=SEED_POLICY)
    assert missing.status_code == 422 and api.error_fields(missing) == ["project_id"]
    ops = api.client.get("/openapi.json").json()["paths"]
    assert ops["/v1/projects/{project_id}/policies"]["get"]["deprecated"] is True
    assert (
        api.client.delete(
            f"/v1/policies/prod-approval-policy?project_id={pid}", headers=api.admin
        ).status_code
        == 204
    )


def test_model_version_type_is_no_longer_501(api: Any) -> None:
    pid = api.project()
    r = api.client.post(
        "/v1/approvals", headers=api.admin, json={"entity_type": "model_version", "entity_id": "mv_x"}
    )
    assert r.status_code == 404
    r = api.client.post(
        "/v1/approvals", headers=api.admin, json={"entity_type": "deployment", "entity_id": "d"}
    )
    assert r.status_code == 501
    assert pid
