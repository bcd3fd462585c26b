"""Constraint documents: stored only when the merged space compiles and is satisfiable."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def post(api: Api, pid: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/v1/projects/{pid}/constraints", headers=api.admin, json=body)


def test_add_constraint_returns_version_and_feasibility(api: Api) -> None:
    pid = api.project()
    c = api.constrain(pid)
    assert c["id"] and c["name"] == "base" and c["type"] == "hard" and c["version"] == 1
    assert c["space_version"].startswith("sp-")
    assert 0 < c["feasible_fraction"] <= 1
    c2 = api.constrain(pid, {**api.SPACE, "relations": ["retries <= 3"]})
    assert c2["version"] == 2 and c2["space_version"] != c["space_version"]
    listed = api.client.get(f"/v1/projects/{pid}/constraints", headers=api.admin).json()["items"]
    assert [(x["name"], x["version"]) for x in listed] == [("base", 2)]
    assert [r.action for r in api.deps.store.audit.list(limit=100)].count("constraint.added") == 2


def test_space_merges_documents(api: Api) -> None:
    pid = api.project()
    empty = api.client.get(f"/v1/projects/{pid}/space", headers=api.admin).json()
    assert empty == {"space_version": None, "params": {}, "relations": []}
    api.constrain(pid)
    soft = api.constrain(
        pid, {"relations": ["payload_kb <= 256"]}, name="prefer-small", type="soft", weight=2.0
    )
    assert soft["type"] == "soft" and soft["weight"] == 2.0
    sp = api.client.get(f"/v1/projects/{pid}/space", headers=api.admin).json()
    assert set(sp["params"]) == set(api.SPACE["params"])
    assert sp["params"]["region"] == {"type": "string", "enum": ["eu", "us", "ap"]}
    assert {r["type"] for r in sp["relations"]} == {"hard", "soft"}
    assert sp["space_version"] == soft["space_version"]


def test_soft_weight_defaults_and_hard_weight_is_refused(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = post(api, pid, {"name": "s", "type": "soft", "json_schema": {"relations": ["retries <= 1"]}})
    assert r.status_code == 201 and r.json()["weight"] == 1.0
    r = post(
        api, pid, {"name": "h", "type": "hard", "weight": 2, "json_schema": {"relations": ["retries <= 1"]}}
    )
    assert r.status_code == 422
    assert api.error_fields(r) == ["body.weight"]


def _bad(**params_or_rel: Any) -> dict:
    doc = copy.deepcopy({"params": {"n": {"type": "integer", "min": 0, "max": 10}}, "relations": []})
    doc.update(params_or_rel)
    return doc


BAD_DOCS = [
    ("unknown param in relation", _bad(relations=["m > 3"]), "json_schema.relations[0]"),
    ("typo in param name", _bad(relations=["nn > 3"]), "json_schema.relations[0]"),
    (
        "unknown param field",
        _bad(params={"n": {"type": "integer", "min": 0, "max": 1, "step": 2}}),
        "json_schema.params.n.step",
    ),
    ("unknown type", _bad(params={"n": {"type": "int", "min": 0, "max": 1}}), "json_schema.params.n.type"),
    ("min > max", _bad(params={"n": {"type": "integer", "min": 5, "max": 1}}), "json_schema.params.n.min"),
    ("missing max", _bad(params={"n": {"type": "number", "min": 0}}), "json_schema.params.n.max"),
    ("unknown top-level field", {**_bad(), "relation": []}, "json_schema.relation"),
    ("no params at all", {"relations": []}, "json_schema.params"),
    ("syntax error", _bad(relations=["n >"]), "json_schema.relations[0]"),
    ("relation not a string", _bad(relations=[42]), "json_schema.relations[0]"),
    ("literal division by zero", _bad(relations=["n / 0 > 1"]), "json_schema.relations[0]"),
    ("division by zero in folded constant", _bad(relations=["n / (2 - 2) > 1"]), "json_schema.relations[0]"),
    ("very long expression", _bad(relations=["n + " * 2000 + "1 > 0"]), "json_schema.relations[0]"),
    (
        "deeply nested parentheses",
        _bad(relations=["(" * 500 + "n" + ")" * 500 + " > 1"]),
        "json_schema.relations[0]",
    ),
    (
        "enum value not in enum",
        {"params": {"r": {"type": "string", "enum": ["eu", "us"]}}, "relations": ["r == 'mars'"]},
        "json_schema.relations[0]",
    ),
    ("unsatisfiable range", _bad(relations=["n > 20"]), "json_schema.relations[0]"),
    ("contradictory relations", _bad(relations=["n > 5", "n < 3"]), None),
]


@pytest.mark.parametrize(("doc", "field"), [(d, f) for _, d, f in BAD_DOCS], ids=[n for n, _, _ in BAD_DOCS])
def test_bad_documents_are_422_naming_the_field_and_store_nothing(
    api: Api, doc: dict, field: str | None
) -> None:
    pid = api.project()
    before = api.audit_count()
    r = post(api, pid, {"name": "base", "type": "hard", "json_schema": doc})
    assert r.status_code == 422, r.text
    fields = api.error_fields(r)
    if field is None:
        assert any(f.startswith("json_schema.relations[") for f in fields), fields
    else:
        assert field in fields, fields
    for d in r.json()["error"]["details"]:
        assert d["reason"]
    assert api.deps.store.constraints.latest(pid) == []
    assert api.audit_count() == before


def test_unsatisfiable_names_the_relation(api: Api) -> None:
    pid = api.project()
    r = post(api, pid, {"name": "base", "type": "hard", "json_schema": _bad(relations=["n >= 0", "n > 20"])})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "unsatisfiable"
    assert err["details"][0]["field"] == "json_schema.relations[1]"
    assert "n > 20" in err["details"][0]["reason"]


def test_a_bad_new_version_keeps_the_old_one(api: Api) -> None:
    pid = api.project()
    good = api.constrain(pid)
    r = post(
        api, pid, {"name": "base", "type": "hard", "json_schema": {**api.SPACE, "relations": ["retries > 9"]}}
    )
    assert r.status_code == 422
    latest = api.deps.store.constraints.latest(pid)
    assert [(c.name, c.version) for c in latest] == [("base", 1)]
    sp = api.client.get(f"/v1/projects/{pid}/space", headers=api.admin).json()
    assert sp["space_version"] == good["space_version"]


def test_new_document_conflicting_with_existing_params_is_refused(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = post(
        api,
        pid,
        {
            "name": "other",
            "type": "hard",
            "json_schema": {"params": {"retries": {"type": "integer", "min": 0, "max": 99}}},
        },
    )
    assert r.status_code == 422
    assert "json_schema.params.retries" in api.error_fields(r)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "base", "type": "hard"}, "body.json_schema"),
        ({"name": "base", "type": "firm", "json_schema": {}}, "body.type"),
        ({"name": "", "type": "hard", "json_schema": {}}, "body.name"),
        ({"name": "has space", "type": "hard", "json_schema": {}}, "body.name"),
        ({"name": "base", "type": "hard", "json_schema": []}, "body.json_schema"),
        ({"name": "base", "type": "hard", "json_schema": "params"}, "body.json_schema"),
        ({"name": "s", "type": "soft", "weight": 0, "json_schema": {}}, "body.weight"),
        ({"name": "s", "type": "soft", "weight": -1, "json_schema": {}}, "body.weight"),
        ({"name": "s", "type": "soft", "weight": "1", "json_schema": {}}, "body.weight"),
    ],
)
def test_wrong_shapes_are_422(api: Api, body: dict, field: str) -> None:
    pid = api.project()
    r = post(api, pid, body)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r)
    assert api.deps.store.constraints.latest(pid) == []


def test_constraints_on_unknown_project_is_404(api: Api) -> None:
    r = post(api, "prj_nope", {"name": "base", "type": "hard", "json_schema": api.SPACE})
    assert r.status_code == 404
