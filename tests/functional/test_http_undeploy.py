"""DELETE /v1/deployments/{id} for prompt deployments: audited, admins only on prod, and what it
unblocks (deleting the prompt and its project) and what it stops (generate for that label)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any


def _deployed(api: Any, environment: str = "dev") -> tuple[str, str, str]:
    """A project with prompt `qa` whose first version is deployed to `environment`."""
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "qa"}).json()["id"]
    r = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json={"body": "Hello"})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    if environment == "prod":  # approved by someone else, as the approvals inbox would
        doc = api.deps.store.docs.get("prompt_version", vid)
        api.deps.store.docs.replace(replace(doc, data={**doc.data, "status": "Approved"}), doc.rev)
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": vid, "environment": environment}
    )
    assert r.status_code == 201, r.text
    return pid, prm, vid


def test_undeploy_stops_serving_is_audited_and_unblocks_delete(api: Any) -> None:
    pid, prm, vid = _deployed(api)
    dep = f"{prm}:dev"
    assert api.client.delete(f"/v1/prompts/{prm}", headers=api.admin).status_code == 409

    body = {"project_id": pid, "prompt": {"name": "qa", "label": "dev"}}
    assert api.client.post("/v1/generate", headers=api.admin, json=body).status_code == 200
    r = api.client.delete(f"/v1/deployments/{dep}?reason=retired", headers=api.admin)
    assert r.status_code == 204, r.text
    r = api.client.post("/v1/generate", headers=api.admin, json=body)
    assert r.status_code == 404 and "undeployed" in r.json()["error"]["message"], r.text
    listed = api.client.get(f"/v1/projects/{pid}/deployments", headers=api.admin).json()["items"]
    assert listed == []
    r = api.client.get(f"/v1/deployments/{dep}", headers=api.admin)
    assert r.status_code == 404 and "undeployed at" in r.json()["error"]["message"]

    [rec] = api.deps.store.audit.list(project_id=pid, action="deployment.undeploy")
    assert rec.target == dep and rec.principal == "admin"
    assert rec.details["from"] == {"version_id": vid, "version": 1} and rec.details["reason"] == "retired"
    assert api.client.delete(f"/v1/deployments/{dep}", headers=api.admin).status_code == 404  # twice

    # deployed again: the history continues, with the undeploy in it
    again = {"prompt_version_id": vid, "environment": "dev"}
    r = api.client.post("/v1/deployments", headers=api.admin, json=again)
    assert r.status_code == 201, r.text
    assert [m["action"] for m in r.json()["history"]] == ["deploy", "undeploy", "deploy"]
    assert api.client.delete(f"/v1/deployments/{dep}", headers=api.admin).status_code == 204
    # nothing deployed any more: the prompt, then the project, may go
    assert api.client.delete(f"/v1/prompts/{prm}", headers=api.admin).status_code == 204
    assert api.client.delete(f"/v1/projects/{pid}", headers=api.admin).status_code == 204
    assert api.deps.store.audit.verify().ok


def test_prod_is_taken_down_by_admins_only(api: Any) -> None:
    pid, prm, _ = _deployed(api, "prod")
    contributor = api.key("contributor", pid)
    before = api.audit_count()
    r = api.client.delete(f"/v1/deployments/{prm}:prod", headers=contributor)
    assert r.status_code == 403, r.text
    assert api.error_fields(r) == ["role"]
    assert api.audit_count() == before  # refused: nothing changed (the refusal has its own record)
    assert api.client.get(f"/v1/deployments/{prm}:prod", headers=api.admin).status_code == 200
    viewer = api.key("viewer", pid)
    assert api.client.delete(f"/v1/deployments/{prm}:prod", headers=viewer).status_code == 403
    assert api.client.delete(f"/v1/deployments/{prm}:prod", headers=api.key("admin", pid)).status_code == 204


def test_contributors_take_dev_down_and_bad_ids_are_404s_or_422s(api: Any) -> None:
    pid, prm, _ = _deployed(api)
    other = api.key("admin", api.project("other"))
    assert api.client.delete(f"/v1/deployments/{prm}:dev", headers=other).status_code == 403
    for bad in (f"{prm}:staging", "nope:dev", "dep_nope", f"{prm}:moon"):
        r = api.client.delete(f"/v1/deployments/{bad}", headers=api.admin)
        assert r.status_code in (404, 422), (bad, r.text)
        assert api.error_fields(r) in (["deployment_id"], ["environment"]), (bad, r.text)
    r = api.client.delete(f"/v1/deployments/{prm}:dev?reason={'x' * 1001}", headers=api.admin)
    assert r.status_code == 422 and api.error_fields(r) == ["query.reason"]
    r = api.client.delete(f"/v1/deployments/{prm}:dev", headers=api.key("contributor", pid))
    assert r.status_code == 204, r.text
