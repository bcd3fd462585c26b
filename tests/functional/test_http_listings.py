"""Listings: creation order and one cursor name (`after` / `next_after`), old names still accepted."""

from __future__ import annotations

from typing import Any

import pytest


def _walk(api: Any, path: str, **params: Any) -> list[str]:
    """Every id of a listing, following `next_after` only."""
    ids: list[str] = []
    after: str | None = None
    while True:
        q = {**params, **({"after": after} if after else {})}
        page = api.client.get(path, headers=api.admin, params=q).json()
        ids.extend(str(i["id"]) for i in page["items"])
        after = page["next_after"]
        if after is None:
            return ids


def test_projects_prompts_and_golden_sets_list_in_creation_order(api: Any) -> None:
    # names in reverse alphabetical order: creation order is not name order
    projects = [api.project(n) for n in ("zulu", "mike", "alpha")]
    assert _walk(api, "/v1/projects", limit=2) == projects
    pid = projects[0]
    prompts = [
        api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": n}).json()["id"]
        for n in ("zz", "mm", "aa")
    ]
    assert _walk(api, f"/v1/projects/{pid}/prompts", limit=2) == prompts
    sets = [
        api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": n}).json()["id"]
        for n in ("z", "a", "m")
    ]
    assert _walk(api, f"/v1/projects/{pid}/datasets", limit=1) == sets


def test_tests_and_audit_page_with_after_and_keep_their_old_names(api: Any) -> None:
    pid = api.project()
    ids = api.add_tests(pid, 5)
    assert _walk(api, f"/v1/projects/{pid}/tests", limit=2) == ids
    old = api.client.get(
        f"/v1/projects/{pid}/tests", headers=api.admin, params={"limit": 2, "after_seq": 2}
    ).json()
    new = api.client.get(
        f"/v1/projects/{pid}/tests", headers=api.admin, params={"limit": 2, "after": "2"}
    ).json()
    assert old == new and [t["id"] for t in new["items"]] == ids[2:4] and new["next_after_seq"] == 4

    records = api.client.get("/v1/audit/logs", headers=api.admin, params={"project_id": pid}).json()["items"]
    walked = _walk(api, "/v1/audit/logs", project_id=pid, limit=1)
    assert walked == [r["id"] for r in records] and walked


def test_projects_keep_the_deprecated_after_id(api: Any) -> None:
    a, b = api.project("a"), api.project("b")
    page = api.client.get("/v1/projects", headers=api.admin, params={"limit": 1}).json()
    assert page["next_after"] == page["next_after_id"] == a
    old = api.client.get("/v1/projects", headers=api.admin, params={"after_id": a}).json()
    assert [p["id"] for p in old["items"]] == [b]


@pytest.mark.parametrize("bad", ["x1", "٣", "99999999999999999999"])
def test_a_sequence_cursor_that_is_not_one_is_a_422_naming_after(api: Any, bad: str) -> None:
    pid = api.project()
    r = api.client.get(f"/v1/projects/{pid}/tests", headers=api.admin, params={"after": bad})
    assert r.status_code == 422 and api.error_fields(r) == ["after"]


def test_the_openapi_document_marks_the_old_names_deprecated(api: Any) -> None:
    doc = api.client.get("/openapi.json").json()
    for path, name in (
        ("/v1/projects", "after_id"),
        ("/v1/projects/{project_id}/tests", "after_seq"),
        ("/v1/audit/logs", "after_seq"),
        ("/v1/projects/{project_id}/traces", "before"),
    ):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        assert params[name].get("deprecated") is True and "after" in params, (path, name)


def test_models_and_deployments_list_in_creation_order(api: Any) -> None:
    from optiloop.models.serving.records import ModelDeployment, deployment_doc

    pid = api.project()
    models = [
        api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": n}).json()["id"]
        for n in ("zz", "mm", "aa")
    ]
    assert _walk(api, "/v1/models", project_id=pid, limit=2) == models

    def prompt_deployment(name: str, environment: str) -> str:
        prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": name}).json()
        path = f"/v1/prompts/{prm['id']}/versions"
        v = api.client.post(path, headers=api.admin, json={"body": "hi"}).json()
        body = {"prompt_version_id": v["id"], "environment": environment}
        r = api.client.post("/v1/deployments", headers=api.admin, json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    first = prompt_deployment("zz", "staging")
    now = api.deps.clock()
    model = ModelDeployment(
        id="dep_middle", project_id=pid, model_id=models[0], model_name="zz", environment="staging",
        stable={"model_version_id": "mv_x"}, candidate=None, strategy={"type": "canary"}, slos={},
        capture_rate=0.0, created_at=now, created_by="t", updated_at=now, updated_by="t",
    )  # fmt: skip
    api.deps.store.docs.create(deployment_doc(model))
    last = prompt_deployment("aa", "dev")
    expected = [first, "dep_middle", last]
    for size in (1, 2, 100):
        assert _walk(api, f"/v1/projects/{pid}/deployments", limit=size) == expected, size


def test_the_approvals_inbox_pages_newest_first_across_projects(api: Any) -> None:
    submitted = []
    projects = [api.project("a"), api.project("b")]
    for n, pid in enumerate([projects[0], projects[1], projects[0]]):
        prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": f"p{n}"}).json()
        path = f"/v1/prompts/{prm['id']}/versions"
        v = api.client.post(path, headers=api.admin, json={"body": "hi"}).json()
        body = {"entity_type": "prompt_version", "entity_id": v["id"]}
        r = api.client.post("/v1/approvals", headers=api.admin, json=body)
        assert r.status_code == 201, r.text
        submitted.append(r.json()["id"])
    newest_first = submitted[::-1]
    for size in (1, 2, 100):
        assert _walk(api, "/v1/approvals", limit=size) == newest_first, size
    assert _walk(api, "/v1/approvals", project_id=projects[0], limit=1) == [submitted[2], submitted[0]]
    assert _walk(api, "/v1/approvals", status="approved", limit=1) == []
