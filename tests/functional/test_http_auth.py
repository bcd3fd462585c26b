"""Every route needs a key (except healthz), and the permission table holds over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


PROJECT_ROUTES = [
    ("GET", "/v1/projects/{pid}", None),
    ("PATCH", "/v1/projects/{pid}", {"budget_cents": 5}),
    (
        "POST",
        "/v1/projects/{pid}/constraints",
        {"name": "base", "type": "hard", "json_schema": {"params": {}}},
    ),
    ("GET", "/v1/projects/{pid}/constraints", None),
    ("GET", "/v1/projects/{pid}/space", None),
    ("POST", "/v1/projects/{pid}/tests:suggest", {"batch_size": 1}),
    ("GET", "/v1/projects/{pid}/tests", None),
    ("POST", "/v1/projects/{pid}/runs:ingest", {"runs": [{"test_id": "t", "status": "pass"}]}),
    ("GET", "/v1/projects/{pid}/coverage", None),
]
GLOBAL_ROUTES = [
    ("GET", "/v1/projects", None),
    ("POST", "/v1/projects", {"name": "x"}),
    ("GET", "/v1/audit/logs", None),
    ("GET", "/v1/audit/verify", None),
    ("GET", "/v1/api-keys", None),
    ("POST", "/v1/api-keys", {"principal": "a", "role": "viewer"}),
    ("DELETE", "/v1/api-keys/key_x", None),
]


def test_healthz_needs_no_key(api: Api) -> None:
    r = api.client.get("/v1/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]


BAD_CREDENTIALS = [
    {},
    {"Authorization": "Bearer olk_not-a-real-key"},
    {"x-api-key": "nope"},
    {"Authorization": "Basic Zm9vOmJhcg=="},
    {"Authorization": "Bearer"},
]


# one app per route, every bad credential against it (one app per pair was 80 set-ups for 80 requests)
@pytest.mark.parametrize(("method", "path", "body"), PROJECT_ROUTES + GLOBAL_ROUTES)
def test_every_route_needs_a_valid_key(api: Api, method: str, path: str, body: dict | None) -> None:
    pid = api.project()
    for headers in BAD_CREDENTIALS:
        r = api.client.request(method, path.format(pid=pid), json=body, headers=headers)
        assert r.status_code == 401, (method, path, headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized", headers
        assert r.headers.get("www-authenticate") == "Bearer", headers


def test_both_header_forms_work(api: Api) -> None:
    assert (
        api.client.get("/v1/projects", headers={"Authorization": f"Bearer {api.ADMIN_TOKEN}"}).status_code
        == 200
    )
    assert api.client.get("/v1/projects", headers={"x-api-key": api.ADMIN_TOKEN}).status_code == 200


def test_revoked_key_is_refused(api: Api) -> None:
    r = api.client.post("/v1/api-keys", headers=api.admin, json={"principal": "bob", "role": "viewer"})
    key, kid = r.json()["key"], r.json()["id"]
    assert api.client.get("/v1/projects", headers=api.auth(key)).status_code == 200
    assert api.client.delete(f"/v1/api-keys/{kid}", headers=api.admin).status_code == 200
    r = api.client.get("/v1/projects", headers=api.auth(key))
    assert r.status_code == 401


def test_viewer_reads_but_never_writes(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    viewer = api.key("viewer")
    for method, path, body in PROJECT_ROUTES:
        r = api.client.request(method, path.format(pid=pid), json=body, headers=viewer)
        if method == "GET":
            assert r.status_code == 200, (path, r.text)
        else:
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"]["code"] == "forbidden"
    assert api.client.post("/v1/projects", headers=viewer, json={"name": "x"}).status_code == 403
    assert (
        api.client.post("/v1/api-keys", headers=viewer, json={"principal": "a", "role": "viewer"}).status_code
        == 403
    )
    assert api.client.get("/v1/api-keys", headers=viewer).status_code == 403


def test_contributor_may_not_edit_constraints_budgets_or_keys(api: Api) -> None:
    pid = api.project()
    c = api.key("contributor")
    r = api.client.post(
        f"/v1/projects/{pid}/constraints",
        headers=c,
        json={"name": "base", "type": "hard", "json_schema": {"params": {}}},
    )
    assert r.status_code == 403
    assert api.error_fields(r) == ["role"]
    assert api.client.patch(f"/v1/projects/{pid}", headers=c, json={"budget_cents": 1}).status_code == 403
    assert (
        api.client.post("/v1/api-keys", headers=c, json={"principal": "a", "role": "viewer"}).status_code
        == 403
    )
    assert api.deps.store.constraints.latest(pid) == []


def test_global_contributor_creates_projects_scoped_one_does_not(api: Api) -> None:
    assert (
        api.client.post("/v1/projects", headers=api.key("contributor"), json={"name": "p"}).status_code == 201
    )
    pid = api.project()
    scoped = api.key("admin", project_id=pid)
    r = api.client.post("/v1/projects", headers=scoped, json={"name": "p2"})
    assert r.status_code == 403
    assert api.error_fields(r) == ["project_id"]


@pytest.mark.parametrize(("method", "path", "body"), PROJECT_ROUTES)
def test_project_key_is_forbidden_on_other_projects(
    api: Api, method: str, path: str, body: dict | None
) -> None:
    mine, other = api.project("mine"), api.project("other")
    key = api.key("owner", project_id=mine)
    r = api.client.request(method, path.format(pid=other), json=body, headers=key)
    assert r.status_code == 403, r.text
    # ... also for a project that does not exist: a scoped key learns nothing about other ids
    r = api.client.request(method, path.format(pid="prj_doesnotexist"), json=body, headers=key)
    assert r.status_code == 403


def test_project_key_sees_only_its_project(api: Api) -> None:
    mine = api.project("mine")
    api.project("other")
    key = api.key("viewer", project_id=mine)
    items = api.client.get("/v1/projects", headers=key).json()["items"]
    assert [p["id"] for p in items] == [mine]
    assert len(api.client.get("/v1/projects", headers=api.admin).json()["items"]) == 2


def test_unknown_project_is_404_for_global_keys(api: Api) -> None:
    r = api.client.get("/v1/projects/prj_nope", headers=api.admin)
    assert r.status_code == 404
    assert api.error_fields(r) == ["project_id"]


def test_unknown_route_uses_the_error_shape(api: Api) -> None:
    r = api.client.get("/v1/nothing-here", headers=api.admin)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
