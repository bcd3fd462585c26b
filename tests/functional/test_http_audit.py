"""Audit log: every change names its principal; scoped keys see only their project."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def test_every_change_is_audited_with_who_and_what(api: Api) -> None:
    alice = api.key("admin", principal="alice")
    pid = api.client.post("/v1/projects", headers=alice, json={"name": "p"}).json()["id"]
    api.client.patch(f"/v1/projects/{pid}", headers=alice, json={"budget_cents": 10})
    api.client.post(
        f"/v1/projects/{pid}/constraints",
        headers=alice,
        json={"name": "base", "type": "hard", "json_schema": api.SPACE},
    )
    t = api.add_tests(pid, 1)
    api.client.post(
        f"/v1/projects/{pid}/runs:ingest", headers=alice, json={"runs": [{"test_id": t[0], "status": "pass"}]}
    )
    body = api.client.get(f"/v1/audit/logs?project_id={pid}&verify=true", headers=api.admin).json()
    assert body["chain_ok"] is True
    assert "chain_ok" not in api.client.get(f"/v1/audit/logs?project_id={pid}", headers=api.admin).json()
    items = body["items"]
    assert [i["action"] for i in items] == [
        "project.created",
        "project.updated",
        "constraint.added",
        "runs.ingested",
    ]
    assert {i["principal"] for i in items} == {"alice"}
    for i in items:
        assert i["at"] and i["hash"] and i["seq"] >= 1 and i["project_id"] == pid


def test_filters_and_paging(api: Api) -> None:
    for n in range(5):
        api.project(f"p{n}")
    first = api.client.get("/v1/audit/logs?action=project.created&limit=2", headers=api.admin).json()
    assert len(first["items"]) == 2 and first["next_after_seq"] == first["items"][-1]["seq"]
    rest = api.client.get(
        f"/v1/audit/logs?action=project.created&after_seq={first['next_after_seq']}", headers=api.admin
    ).json()
    assert len(rest["items"]) == 3 and rest["next_after_seq"] is None
    bad = api.client.get("/v1/audit/logs?limit=0", headers=api.admin)
    assert bad.status_code == 422 and api.error_fields(bad) == ["query.limit"]


def test_scoped_key_sees_only_its_project(api: Api) -> None:
    mine, other = api.project("mine"), api.project("other")
    key = api.key("viewer", project_id=mine)
    items = api.client.get("/v1/audit/logs", headers=key).json()["items"]
    assert items and {i["project_id"] for i in items} == {mine}
    assert api.client.get(f"/v1/audit/logs?project_id={other}", headers=key).status_code == 403
    assert api.client.get("/v1/audit/logs", headers=api.admin).json()["items"][0]["action"] == "key.created"


def test_verify(api: Api) -> None:
    api.project()
    r = api.client.get("/v1/audit/verify", headers=api.key("viewer"))
    assert r.status_code == 200 and r.json() == {"ok": True, "first_bad_seq": None}
