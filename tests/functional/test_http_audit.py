"""Audit log: every change names its principal; scoped keys see only their project."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    assert len(first["items"]) == 2 and first["next_after"]  # tenant-wide: an opaque cursor
    rest = api.client.get(
        f"/v1/audit/logs?action=project.created&after={first['next_after']}", headers=api.admin
    ).json()
    assert len(rest["items"]) == 3 and rest["next_after"] is None
    assert len({i["project_id"] for i in first["items"] + rest["items"]}) == 5
    pid = first["items"][0]["project_id"]
    one = api.client.get(f"/v1/audit/logs?project_id={pid}&limit=1", headers=api.admin).json()
    assert one["next_after_seq"] == one["items"][0]["seq"] == 1  # a project's listing pages by seq
    bad = api.client.get("/v1/audit/logs?after=not-a-cursor", headers=api.admin)
    assert bad.status_code == 422 and api.error_fields(bad) == ["after"]
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
    body = r.json()
    assert r.status_code == 200 and body["ok"] is True and body["first_bad_seq"] is None
    assert body["problem"] is None and body["records"] >= 2 and body["shards"] >= 2


def test_verify_names_a_tampered_record_and_digests_are_checked(api: Api) -> None:
    from optiloop.audit.sealing import seal_now

    pid = api.project()
    assert seal_now(api.deps) is not None
    assert api.client.get("/v1/audit/verify", headers=api.admin).json()["digests"] == 1
    conn = api.deps.store.db.conn()  # type: ignore[attr-defined]
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET principal = 'mallory' WHERE project_id = ?", (pid,))
    body = api.client.get("/v1/audit/verify", headers=api.admin).json()
    assert body["ok"] is False and body["first_bad_seq"] == 1
    assert body["problem"]["shard"] == f"p/{pid}" and body["problem"]["kind"] == "record"


def test_contention_is_a_409_naming_what_with_retry_after(api: Api, monkeypatch: Any) -> None:
    from optiloop.errors import Contended

    pid = api.project()

    def contended(**kw: Any) -> Any:
        raise Contended("busy", contended=f"the audit chain of project '{pid}'", retry_after_s=1.0)

    monkeypatch.setattr(api.deps.store.audit, "append", contended)
    r = api.client.patch(f"/v1/projects/{pid}", headers=api.admin, json={"budget_cents": 10})
    assert r.status_code == 409 and r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "contended" and pid in r.json()["error"]["details"][0]["reason"]
