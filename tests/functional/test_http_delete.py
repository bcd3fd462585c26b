"""DELETE for projects, prompts and datasets: soft, audited, refused while deployed, all or nothing."""

from __future__ import annotations

from typing import Any


def _prompt(api: Any, pid: str, name: str = "qa") -> str:
    r = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _deleted_actions(api: Any) -> list[tuple[str, str | None]]:
    return [
        (r.action, r.target) for r in api.deps.store.audit.list(limit=10_000) if r.action.endswith(".deleted")
    ]


def test_a_deleted_prompt_leaves_lists_reads_and_frees_its_name(api: Any) -> None:
    pid = api.project()
    keep, gone = _prompt(api, pid, "keep"), _prompt(api, pid, "qa")
    v = api.client.post(
        f"/v1/prompts/{gone}/versions",
        headers=api.admin,
        json={"body": "Q: {{q}}", "variables": {"q": "str"}},
    )
    assert v.status_code == 201

    r = api.client.delete(f"/v1/prompts/{gone}", headers=api.admin)
    assert r.status_code == 204, r.text
    listed = api.client.get(f"/v1/projects/{pid}/prompts", headers=api.admin).json()["items"]
    assert [p["id"] for p in listed] == [keep]
    r = api.client.get(f"/v1/prompts/{gone}", headers=api.admin)
    assert r.status_code == 404 and "was deleted" in r.json()["error"]["message"]
    assert api.client.get(f"/v1/prompts/{gone}/versions", headers=api.admin).status_code == 404
    # the version stays readable by id: approvals and traces name it
    assert api.client.get(f"/v1/prompt_versions/{v.json()['id']}", headers=api.admin).status_code == 200
    assert api.client.delete(f"/v1/prompts/{gone}", headers=api.admin).status_code == 404  # twice: gone
    assert _prompt(api, pid, "qa") != gone  # the name is free again
    assert _deleted_actions(api) == [("prompt.deleted", gone)]


def test_a_deployed_prompt_and_its_project_are_refused_with_nothing_written(api: Any) -> None:
    pid = api.project()
    prm = _prompt(api, pid)
    v = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json={"body": "hi"}).json()
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": v["id"], "environment": "dev"}
    )
    assert r.status_code in (200, 201), r.text
    before = api.audit_count()

    for path, field in ((f"/v1/prompts/{prm}", "prompt_id"), (f"/v1/projects/{pid}", "project_id")):
        r = api.client.delete(path, headers=api.admin)
        assert r.status_code == 409, r.text
        assert api.error_fields(r) == [field] and "deployed" in r.json()["error"]["message"]
    assert api.audit_count() == before
    assert api.client.get(f"/v1/prompts/{prm}", headers=api.admin).status_code == 200
    assert api.client.get(f"/v1/projects/{pid}", headers=api.admin).status_code == 200


def test_a_deleted_project_vanishes_from_lists_and_routes(api: Any) -> None:
    a, b, c = api.project("a"), api.project("b"), api.project("c")
    api.constrain(b)
    r = api.client.delete(f"/v1/projects/{b}", headers=api.admin)
    assert r.status_code == 204, r.text

    ids = [p["id"] for p in api.client.get("/v1/projects", headers=api.admin).json()["items"]]
    assert b not in ids and {a, c} <= set(ids)
    # paging never returns it either, and a full page still fills up past it
    page = api.client.get("/v1/projects?limit=2", headers=api.admin).json()
    assert len(page["items"]) == 2 and b not in [p["id"] for p in page["items"]]
    for path in (f"/v1/projects/{b}", f"/v1/projects/{b}/constraints", f"/v1/projects/{b}/coverage"):
        r = api.client.get(path, headers=api.admin)
        assert r.status_code == 404, (path, r.text)
    r = api.client.post(f"/v1/projects/{b}/prompts", headers=api.admin, json={"name": "late"})
    assert r.status_code == 404 and api.error_fields(r) == ["project_id"]
    assert _deleted_actions(api) == [("project.deleted", b)]


def test_who_may_delete(api: Any) -> None:
    pid = api.project()
    prm = _prompt(api, pid)
    contributor = api.key("contributor", pid)
    scoped_admin = api.key("admin", pid)
    assert api.client.delete(f"/v1/prompts/{prm}", headers=contributor).status_code == 403
    assert api.client.delete(f"/v1/projects/{pid}", headers=contributor).status_code == 403
    # a key bound to the project may delete its prompts, never the project itself
    assert api.client.delete(f"/v1/projects/{pid}", headers=scoped_admin).status_code == 403
    assert api.client.delete(f"/v1/prompts/{prm}", headers=scoped_admin).status_code == 204
    other = api.key("admin", api.project("other"))
    ds = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "gold"}).json()[
        "id"
    ]
    assert api.client.delete(f"/v1/datasets/{ds}", headers=other).status_code == 403


def test_a_deleted_golden_set_leaves_its_listing(api: Any) -> None:
    pid = api.project()
    ds = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "gold"}).json()[
        "id"
    ]
    ex = [{"id": "e1", "input": {"q": "1+1"}, "expected": "2"}]
    assert (
        api.client.post(f"/v1/datasets/{ds}/examples", headers=api.admin, json={"examples": ex}).status_code
        == 200
    )
    assert api.client.delete(f"/v1/datasets/{ds}", headers=api.admin).status_code == 204
    assert api.client.get(f"/v1/projects/{pid}/datasets", headers=api.admin).json()["items"] == []
    assert api.client.get(f"/v1/datasets/{ds}", headers=api.admin).status_code == 404
    assert api.client.get(f"/v1/datasets/{ds}/examples", headers=api.admin).status_code == 404
    assert api.client.delete("/v1/datasets/ds_nope", headers=api.admin).status_code == 404
    assert _deleted_actions(api) == [("dataset.deleted", ds)]


def test_a_table_is_refused_while_an_experiment_runs_on_it(api: Any) -> None:
    pid = api.project()
    csv = b"x,y\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(40))
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        files={"file": ("t.csv", csv, "text/csv")},
        data={"project_id": pid, "name": "table"},
    )
    assert r.status_code == 201, r.text
    ds = r.json()["id"]
    # an experiment queued on it, written as the experiments module does (no search stack needed here)
    from optiloop.store.records import Doc

    with api.deps.store.transaction():
        api.deps.store.docs.create(
            Doc(
                kind="experiment",
                id="exp_1",
                scope=pid,
                sort="exp_1",
                data={"dataset_id": ds, "status": "queued"},
            )
        )
    r = api.client.delete(f"/v1/datasets/{ds}", headers=api.admin)
    assert r.status_code == 409 and api.error_fields(r) == ["dataset_id"]
    assert api.client.get(f"/v1/datasets/{ds}", headers=api.admin).status_code == 200

    doc = api.deps.store.docs.get("experiment", "exp_1")
    api.deps.store.docs.replace(Doc(**{**doc.__dict__, "data": {**doc.data, "status": "completed"}}), doc.rev)
    assert api.client.delete(f"/v1/datasets/{ds}", headers=api.admin).status_code == 204
    r = api.client.get(f"/v1/datasets/{ds}", headers=api.admin)
    assert r.status_code == 404 and "was deleted" in r.json()["error"]["message"]
    assert _deleted_actions(api) == [("dataset.deleted", ds)]
