"""Prompts, versions, diffs, deployments and rollback over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

BODY = "You are a careful assistant.\nQ: {{question}}\nA:"


def prompt(api: Any, pid: str, name: str = "qa", headers: dict | None = None) -> str:
    r = api.client.post(f"/v1/projects/{pid}/prompts", headers=headers or api.admin, json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def version(api: Any, prompt_id: str, headers: dict | None = None, **kw: Any) -> dict:
    spec = {"body": BODY, "variables": {"question": "str"}, "notes": "first", **kw}
    r = api.client.post(f"/v1/prompts/{prompt_id}/versions", headers=headers or api.admin, json=spec)
    assert r.status_code == 201, r.text
    return r.json()


def test_versions_are_numbered_immutable_and_listed(api: Any) -> None:
    pid = api.project()
    prm = prompt(api, pid)
    v1 = version(api, prm)
    v2 = version(api, prm, body=BODY.replace("careful", "concise"), notes="shorter")
    assert (v1["version"], v2["version"], v1["status"]) == (1, 2, "Draft")
    assert set(v1) >= {"id", "prompt_id", "version", "status", "created_at", "content_hash"}
    listed = api.client.get(f"/v1/prompts/{prm}/versions", headers=api.admin).json()["items"]
    assert [v["version"] for v in listed] == [1, 2]
    got = api.client.get(f"/v1/prompt_versions/{v1['id']}", headers=api.admin).json()
    assert got["body"] == BODY and got["variables"] == {"question": "str"}
    # no route changes a version's content
    assert api.client.put(f"/v1/prompt_versions/{v1['id']}", headers=api.admin, json={}).status_code == 405
    assert (
        api.client.get(f"/v1/projects/{pid}/prompts", headers=api.admin).json()["items"][0]["latest_version"]
        == 2
    )


def test_diff_shows_body_and_variable_changes(api: Any) -> None:
    prm = prompt(api, api.project())
    v1 = version(api, prm)
    v2 = version(api, prm, body=BODY + " {{tone}}", variables={"question": "str", "tone": "str"})
    d = api.client.get(
        f"/v1/prompt_versions/{v2['id']}/diff", params={"against": v1["id"]}, headers=api.admin
    )
    assert d.status_code == 200, d.text
    body = d.json()
    assert body["body"].startswith("--- v1\n+++ v2\n") and "+A: {{tone}}" in body["body"]
    assert '+"tone": "str"' in body["variables"] and not body["identical"]


def test_duplicate_prompt_name_is_409(api: Any) -> None:
    pid = api.project()
    prompt(api, pid)
    r = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "qa"})
    assert r.status_code == 409 and api.error_fields(r) == ["name"]


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"body": "{{ ''.__class__ }}", "variables": {}}, "body", "__class__"),
        ({"body": "{{ q.__init__.__globals__ }}", "variables": {"q": "str"}}, "body", "not allowed"),
        ({"body": "{% include '/etc/passwd' %}", "variables": {}}, "body", "include"),
        ({"body": "{{ question }} {{ other }}", "variables": {"question": "str"}}, "variables", "other"),
        ({"body": "{{ q }", "variables": {"q": "str"}}, "body", "syntax"),
        ({"body": "{{ q }}", "variables": {"q": "text"}}, "variables.q", "type"),
        ({"body": "x" * 40_000, "variables": {}}, "body.body", "32000"),
    ],
)
def test_bad_templates_are_422_and_audited(api: Any, spec: dict, field: str, words: str) -> None:
    prm = prompt(api, api.project())
    before = api.audit_count()
    r = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json=spec)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r) and words in r.text
    assert api.audit_count() == before  # nothing written
    assert api.refusals()[-1].details["status"] == 422


def test_deploy_to_dev_then_prod_needs_approval(api: Any) -> None:
    pid = api.project()
    prm = prompt(api, pid)
    v1 = version(api, prm)
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": v1["id"], "environment": "dev"}
    )
    assert r.status_code == 201 and r.json()["version"] == 1
    before = api.audit_count()
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": v1["id"], "environment": "prod"}
    )
    assert r.status_code == 409 and "protected" in r.json()["error"]["message"]
    assert api.audit_count() == before
    bad = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": v1["id"], "environment": "qa"}
    )
    assert bad.status_code == 422 and api.error_fields(bad) == ["environment"]
    listed = api.client.get(f"/v1/projects/{pid}/deployments", headers=api.admin).json()["items"]
    assert [(d["environment"], d["version"]) for d in listed] == [("dev", 1)]


def test_rollback_points_back_in_one_call(api: Any) -> None:
    pid = api.project()
    prm = prompt(api, pid)
    v1, v2 = version(api, prm), version(api, prm, notes="v2")
    for v in (v1, v2):
        r = api.client.post(
            "/v1/deployments",
            headers=api.admin,
            json={"prompt_version_id": v["id"], "environment": "staging"},
        )
        assert r.status_code == 201
    r = api.client.post(
        "/v1/deployments/rollback", headers=api.admin, json={"prompt_id": prm, "environment": "staging"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and [h["action"] for h in r.json()["history"]] == [
        "deploy",
        "deploy",
        "rollback",
    ]
    moves = api.deps.store.audit.list(project_id=pid, action="deployment.rollback")
    assert moves[-1].details["from"]["version"] == 2 and moves[-1].details["to"]["version"] == 1


def test_viewer_cannot_write_and_other_project_key_is_refused(api: Any) -> None:
    pid, other = api.project("a"), api.project("b")
    prm = prompt(api, pid)
    viewer = api.key("viewer", pid)
    r = api.client.post(f"/v1/prompts/{prm}/versions", headers=viewer, json={"body": "hi", "variables": {}})
    assert r.status_code == 403
    assert api.client.get(f"/v1/prompts/{prm}", headers=viewer).status_code == 200
    stranger = api.key("admin", other)
    assert api.client.get(f"/v1/prompts/{prm}", headers=stranger).status_code == 403
    r = api.client.post(f"/v1/projects/{pid}/prompts", headers=stranger, json={"name": "x"})
    assert r.status_code == 403
    refused = api.refusals()
    assert len(refused) == 3 and {x.principal for x in refused} == {"viewer-user", "admin-user"}


def test_versions_page_with_a_string_cursor_that_after_reads_back(api: Any) -> None:
    """Schemathesis found `next_after` answered as a number where the response model (and every other
    page's cursor) is a string: a 500 (ResponseValidationError) on `?after=0&limit=1`."""
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "q"}).json()["id"]
    for k in range(3):
        r = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin, json={"body": f"v{k}"})
        assert r.status_code == 201, r.text
    seen, after = [], "0"
    while after is not None:
        page = api.client.get(f"/v1/prompts/{prm}/versions?after={after}&limit=1", headers=api.admin)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [v["version"] for v in body["items"]]
        after = body["next_after"]
        assert after is None or isinstance(after, str)
    assert seen == [1, 2, 3]
