"""Approvals: four eyes, policy gates, protected deployments, and the audit evidence."""

from __future__ import annotations

from typing import Any

from optiloop.store.records import Doc

BODY = "Q: {{question}}\nA:"


def draft(api: Any, pid: str, author: dict) -> dict:
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=author, json={"name": "qa"})
    prm_id = (
        prm.json()["id"]
        if prm.status_code == 201
        else api.client.get(f"/v1/projects/{pid}/prompts", headers=author).json()["items"][0]["id"]
    )
    r = api.client.post(
        f"/v1/prompts/{prm_id}/versions",
        headers=author,
        json={"body": BODY, "variables": {"question": "str"}},
    )
    assert r.status_code == 201, r.text
    return r.json()


def people(api: Any, pid: str) -> tuple[dict, dict, dict]:
    return (
        api.key("contributor", pid, principal="alice"),
        api.key("admin", pid, principal="bob"),
        api.key("admin", pid, principal="carol"),
    )


def test_author_cannot_approve_own_version_but_another_admin_can(api: Any) -> None:
    pid = api.project()
    alice_admin = api.key("admin", pid, principal="alice")
    _, bob, _ = people(api, pid)
    v = draft(api, pid, alice_admin)
    r = api.client.post(
        f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice_admin, json={"comment": "pls"}
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    own = api.client.post(
        f"/v1/prompt_versions/{v['id']}/approve", headers=alice_admin, json={"comment": "lgtm"}
    )
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]["message"]
    ok = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=bob, json={"comment": "lgtm"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    assert api.client.get(f"/v1/prompt_versions/{v['id']}", headers=bob).json()["status"] == "Approved"
    rec = api.deps.store.audit.list(project_id=pid, action="approval.approved")[-1]
    assert rec.principal == "bob" and rec.details["evidence"]["content_hash"] == v["content_hash"]
    d = api.client.post(
        "/v1/deployments", headers=alice_admin, json={"prompt_version_id": v["id"], "environment": "prod"}
    )
    assert d.status_code == 201, d.text


def test_a_key_the_author_minted_cannot_approve(api: Any) -> None:
    pid = api.project()
    alice = api.key("owner", pid, principal="alice")
    v = draft(api, pid, alice)
    minted = api.client.post(
        "/v1/api-keys", headers=alice, json={"principal": "sockpuppet", "role": "admin", "project_id": pid}
    )
    assert minted.status_code == 201, minted.text
    puppet = api.auth(minted.json()["key"])
    api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    r = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=puppet)
    assert r.status_code == 403 and api.error_fields(r) == ["key_id"]


def test_contributor_cannot_approve_and_viewer_cannot_submit(api: Any) -> None:
    pid = api.project()
    alice, _, _ = people(api, pid)
    v = draft(api, pid, alice)
    viewer = api.key("viewer", pid)
    assert (
        api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=viewer).status_code
        == 403
    )
    api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    dave = api.key("contributor", pid, principal="dave")
    assert api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=dave).status_code == 403


def test_reject_needs_a_comment_and_blocks_deployment(api: Any) -> None:
    pid = api.project()
    alice, bob, _ = people(api, pid)
    v = draft(api, pid, alice)
    api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    assert (
        api.client.post(
            f"/v1/prompt_versions/{v['id']}/reject", headers=bob, json={"comment": ""}
        ).status_code
        == 422
    )
    r = api.client.post(f"/v1/prompt_versions/{v['id']}/reject", headers=bob, json={"comment": "too vague"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    for env in ("dev", "prod"):
        d = api.client.post(
            "/v1/deployments", headers=alice, json={"prompt_version_id": v["id"], "environment": env}
        )
        assert d.status_code == 409


def test_policy_needs_two_admin_approvals_when_the_gate_passes(api: Any) -> None:
    pid = api.project()
    alice, bob, carol = people(api, pid)
    policy = {
        "name": "prod-gate",
        "scope": "prompt_version",
        "rule": {
            "if": {"eval.exact_match": {">=": 0.8}},
            "then": "require_approval",
            "approvers": ["admin"],
            "min_approvals": 2,
        },
    }
    r = api.client.post(f"/v1/projects/{pid}/policies", headers=api.admin, json=policy)
    assert r.status_code == 201, r.text
    v = draft(api, pid, alice)
    blocked = api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    assert blocked.status_code == 409
    msg = blocked.json()["error"]["message"]
    assert "prod-gate" in msg and "never measured" in msg
    _eval(api, v, pid, 0.62)
    blocked = api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    assert blocked.status_code == 409 and "is 0.62" in blocked.json()["error"]["message"]
    _eval(api, v, pid, 0.9)
    sub = api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice)
    assert sub.status_code == 201 and sub.json()["requirements"][0]["min_approvals"] == 2
    assert (
        api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=bob).json()["status"] == "pending"
    )
    again = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=bob)
    assert again.status_code == 409
    pending = api.client.get(
        "/v1/approvals", params={"status": "pending", "project_id": pid}, headers=bob
    ).json()
    assert len(pending["items"]) == 1
    inbox = api.client.get("/v1/approvals", params={"status": "pending"}, headers=api.admin).json()
    assert [a["entity_id"] for a in inbox["items"]] == [v["id"]]  # a global key sees every project
    done = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=carol)
    assert done.json()["status"] == "approved"
    rec = api.deps.store.audit.list(project_id=pid, action="approval.approved")[-1]
    assert rec.details["evidence"]["evaluations"][0]["aggregates"]["exact_match"]["mean"] == 0.9


def test_bad_policies_and_reserved_entity_types(api: Any) -> None:
    pid = api.project()
    bad = {
        "name": "g",
        "scope": "prompt_version",
        "rule": {"if": {"eval.f1": {"~": 1}}, "then": "maybe", "min_approvals": 0},
    }
    r = api.client.post(f"/v1/projects/{pid}/policies", headers=api.admin, json=bad)
    assert r.status_code == 422
    assert set(api.error_fields(r)) == {"rule.then", "rule.if.eval.f1.~", "rule.min_approvals"}
    r = api.client.post(
        "/v1/approvals", headers=api.admin, json={"entity_type": "deployment", "entity_id": "dep_1"}
    )
    assert r.status_code == 501  # reserved; model_version is approvable since the registry (issue 9)
    r = api.client.post(
        "/v1/approvals", headers=api.admin, json={"entity_type": "spaceship", "entity_id": "x"}
    )
    assert r.status_code == 422 and api.error_fields(r) == ["entity_type"]
    contributor = api.key("contributor", pid)
    good = {"name": "g", "scope": "prompt_version", "rule": {"then": "require_approval"}}
    assert api.client.post(f"/v1/projects/{pid}/policies", headers=contributor, json=good).status_code == 403


def _eval(api: Any, v: dict, pid: str, em: float) -> None:
    """An evaluation result as the evals module stores it (its own tests run real evaluations)."""
    n = len(api.deps.store.docs.list("eval_run", v["id"]))
    api.deps.store.docs.create(
        Doc(
            kind="eval_run",
            id=f"ev_{n}",
            scope=v["id"],
            sort=f"2026-01-0{n + 1}T00:00:00Z#ev_{n}",
            data={
                "status": "completed",
                "dataset_id": "ds_1",
                "project_id": pid,
                "aggregates": {"exact_match": {"mean": em, "ci_low": em - 0.1, "ci_high": em + 0.1, "n": 20}},
            },
        )
    )


def test_a_project_holds_a_bounded_set_of_policies(api: Any, monkeypatch: Any) -> None:
    from optiloop.approvals import policy_store

    monkeypatch.setattr(policy_store, "MAX_POLICIES", 2)
    pid = api.project()
    rule = {"then": "require_approval", "approvers": ["admin"]}

    def put(name: str) -> Any:
        body = {"project_id": pid, "name": name, "scope": "prompt_version", "rule": rule}
        return api.client.post("/v1/policies", headers=api.admin, json=body)

    assert put("a").status_code == 201 and put("b").status_code == 201
    before = api.audit_count()
    r = put("c")
    assert r.status_code == 409 and api.error_fields(r) == ["name"], r.text
    assert api.audit_count() == before
    assert put("a").status_code == 201  # replacing one stays possible at the cap
    names = [
        p["name"] for p in api.client.get(f"/v1/policies?project_id={pid}", headers=api.admin).json()["items"]
    ]
    assert sorted(names) == ["a", "b"]


def test_policies_list_in_creation_order_and_page_with_one_cursor(api: Any) -> None:
    """Issue 12: listings in creation order with `after`/`next_after`; a replaced policy keeps its
    place, the scope filter applies before paging, a deleted cursor item does not lose the place."""
    pid = api.project()
    rule = {"then": "require_approval", "approvers": ["admin"]}

    def put(name: str, scope: str = "prompt_version") -> None:
        body = {"project_id": pid, "name": name, "scope": scope, "rule": rule}
        assert api.client.post("/v1/policies", headers=api.admin, json=body).status_code == 201

    for name in ("zeta", "alpha", "mid"):
        put(name)
    put("other", scope="model_version")
    put("zeta")  # a replacement keeps the policy's creation time

    def page(**q: Any) -> Any:
        r = api.client.get("/v1/policies", headers=api.admin, params={"project_id": pid, **q})
        assert r.status_code == 200, r.text
        return r.json()

    first = page(limit=2, scope="prompt_version")
    assert [p["name"] for p in first["items"]] == ["zeta", "alpha"] and first["next_after"]
    assert all(p["created_at"] <= p["updated_at"] for p in first["items"])
    api.client.delete("/v1/policies/alpha", headers=api.admin, params={"project_id": pid})
    rest = page(limit=2, scope="prompt_version", after=first["next_after"])
    assert [p["name"] for p in rest["items"]] == ["mid"] and rest["next_after"] is None
    assert [p["name"] for p in page()["items"]] == ["zeta", "mid", "other"]
    r = api.client.get("/v1/policies", headers=api.admin, params={"project_id": pid, "limit": 0})
    assert r.status_code == 422 and api.error_fields(r) == ["query.limit"], r.text
