"""API keys over HTTP: shown once, never listed, and delegation never escalates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def create(api: Api, headers: dict, **body: object) -> object:
    return api.client.post("/v1/api-keys", headers=headers, json=body)


def test_create_list_revoke(api: Api) -> None:
    pid = api.project()
    r = create(api, api.admin, principal="alice", role="contributor", project_id=pid)
    assert r.status_code == 201
    k = r.json()
    assert k["key"].startswith("olk_") and len(k["key"]) > 40
    assert (k["principal"], k["role"], k["project_id"]) == ("alice", "contributor", pid) and k["created_at"]
    listed = api.client.get("/v1/api-keys", headers=api.admin).json()["items"]
    assert {x["principal"] for x in listed} == {"admin", "alice"}
    text = api.client.get("/v1/api-keys", headers=api.admin).text
    assert k["key"] not in text and "key_hash" not in text
    for x in listed:
        assert "key" not in x
    r = api.client.delete(f"/v1/api-keys/{k['id']}", headers=api.admin)
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert api.client.get("/v1/projects", headers=api.auth(k["key"])).status_code == 401
    actions = [a.action for a in api.deps.store.audit.list(limit=100)]
    assert actions.count("key.created") == 2 and actions.count("key.revoked") == 1  # bootstrap + alice


def test_project_admin_delegates_within_limits(api: Api) -> None:
    pid, other = api.project("p"), api.project("q")
    padmin = api.key("admin", project_id=pid)
    assert create(api, padmin, principal="r", role="contributor", project_id=pid).status_code == 201
    assert create(api, padmin, principal="r", role="admin", project_id=pid).status_code == 201
    r = create(api, padmin, principal="r", role="owner", project_id=pid)
    assert r.status_code == 403 and api.error_fields(r) == ["role"]
    r = create(api, padmin, principal="r", role="viewer", project_id=other)
    assert r.status_code == 403 and api.error_fields(r) == ["project_id"]
    r = create(api, padmin, principal="r", role="viewer")
    assert r.status_code == 403 and api.error_fields(r) == ["project_id"]
    # a project admin lists only its project's keys
    listed = api.client.get("/v1/api-keys", headers=padmin).json()["items"]
    assert {x["project_id"] for x in listed} == {pid}


def test_project_admin_cannot_revoke_elsewhere_or_above(api: Api) -> None:
    pid = api.project()
    padmin = api.key("admin", project_id=pid)
    owner = create(api, api.admin, principal="o", role="owner", project_id=pid).json()
    r = api.client.delete(f"/v1/api-keys/{owner['id']}", headers=padmin)
    assert r.status_code == 403
    glob = create(api, api.admin, principal="g", role="viewer").json()
    r = api.client.delete(f"/v1/api-keys/{glob['id']}", headers=padmin)
    assert r.status_code == 404  # other keys are not even confirmed to exist
    assert r.json()["error"]["details"][0]["field"] == "key_id"


def test_global_admin_may_mint_any_key(api: Api) -> None:
    pid = api.project()
    for role in ("owner", "admin", "contributor", "viewer"):
        assert create(api, api.admin, principal="x", role=role).status_code == 201
        assert create(api, api.admin, principal="x", role=role, project_id=pid).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "viewer"}, "body.principal"),
        ({"principal": "a"}, "body.role"),
        ({"principal": "a", "role": "root"}, "body.role"),
        ({"principal": "", "role": "viewer"}, "body.principal"),
        ({"principal": "a b", "role": "viewer"}, "body.principal"),
        ({"principal": "a", "role": "viewer", "project_id": 3}, "body.project_id"),
        ({"principal": "a", "role": "viewer", "scope": "x"}, "body.scope"),
    ],
)
def test_bad_key_requests(api: Api, body: dict, field: str) -> None:
    before = len(api.deps.store.keys.list())
    r = api.client.post("/v1/api-keys", headers=api.admin, json=body)
    assert r.status_code == 422 and field in api.error_fields(r)
    assert len(api.deps.store.keys.list()) == before


def test_key_for_unknown_project_is_404(api: Api) -> None:
    r = create(api, api.admin, principal="a", role="viewer", project_id="prj_nope")
    assert r.status_code == 404 and api.error_fields(r) == ["project_id"]


def test_revoke_unknown_key_is_404(api: Api) -> None:
    assert api.client.delete("/v1/api-keys/key_nope", headers=api.admin).status_code == 404
