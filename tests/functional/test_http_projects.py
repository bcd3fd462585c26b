from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def test_create_get_list(api: Api) -> None:
    r = api.client.post(
        "/v1/projects",
        headers=api.admin,
        json={"name": "checkout", "description": "payments", "budget_cents": 1000},
    )
    assert r.status_code == 201
    p = r.json()
    assert p["id"].startswith("prj_") and p["name"] == "checkout" and p["created_at"]
    assert p["budget_cents"] == 1000 and p["description"] == "payments" and p["created_by"] == "admin"
    assert api.client.get(f"/v1/projects/{p['id']}", headers=api.admin).json() == p
    assert api.client.get("/v1/projects", headers=api.admin).json()["items"] == [p]


def test_project_creation_is_audited_with_the_principal(api: Api) -> None:
    c = api.key("contributor", principal="carol")
    pid = api.client.post("/v1/projects", headers=c, json={"name": "p"}).json()["id"]
    rec = [r for r in api.deps.store.audit.list(limit=1000) if r.action == "project.created"]
    assert [(r.principal, r.project_id) for r in rec] == [("carol", pid)]


def test_patch_budget(api: Api) -> None:
    pid = api.project()
    r = api.client.patch(f"/v1/projects/{pid}", headers=api.admin, json={"budget_cents": 250.5})
    assert r.status_code == 200 and r.json()["budget_cents"] == 250.5
    r = api.client.patch(f"/v1/projects/{pid}", headers=api.admin, json={"budget_cents": None})
    assert r.status_code == 200 and r.json()["budget_cents"] is None
    rec = [r for r in api.deps.store.audit.list(limit=1000) if r.action == "project.updated"]
    assert rec[0].details["budget_cents"] == {"from": None, "to": 250.5}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": 42}, "body.name"),
        ({"name": ["a"]}, "body.name"),
        ({"name": "ok", "budget_cents": -1}, "body.budget_cents"),
        ({"name": "ok", "budget_cents": "100"}, "body.budget_cents"),
        ({"name": "ok", "description": 7}, "body.description"),
        ({"name": "ok", "nmae": "typo"}, "body.nmae"),
    ],
)
def test_bad_project_input_is_422_naming_the_field(api: Api, body: dict, field: str) -> None:
    before = api.audit_count()
    r = api.client.post("/v1/projects", headers=api.admin, json=body)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r)
    assert api.deps.store.projects.list() == []
    assert api.audit_count() == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "x", "budget_cents": NaN}',
        b'{"name": "x", "budget_cents": Infinity}',
        b'{"name": "x", "budget_cents": 1e999}',
    ],
)
def test_non_finite_numbers_are_refused(api: Api, raw: bytes) -> None:
    r = api.client.post(
        "/v1/projects", headers={**api.admin, "content-type": "application/json"}, content=raw
    )
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["body.budget_cents"]
    assert api.deps.store.projects.list() == []


@pytest.mark.parametrize("body", [{}, {"budget_cents": -5}, {"budget_cents": "5"}, {"budget": 5}])
def test_bad_patch_is_422_and_changes_nothing(api: Api, body: dict) -> None:
    pid = api.project(budget_cents=10)
    r = api.client.patch(f"/v1/projects/{pid}", headers=api.admin, json=body)
    assert r.status_code == 422
    assert api.deps.store.projects.get(pid).budget_cents == 10
