"""build_space: every problem at its JSON path, all at once; merging documents; conditional params."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.testopt.space import Space, build_space
from optiloop.testopt.space.schema import MAX_RELATIONS, ConstraintDoc

EXAMPLE_PARAMS: dict[str, Any] = {
    "qps": {"type": "integer", "min": 1, "max": 5000},
    "region": {"type": "string", "enum": ["us", "eu", "apac"]},
    "payload_kb": {"type": "number", "min": 0.1, "max": 512},
    "cache": {"type": "boolean"},
}
EXAMPLE_RELATIONS = ["if(region=='eu') then(payload_kb<=256.0)", "qps * payload_kb <= 1.0e6"]


def doc(
    json_schema: Any, name: str = "base", type: str = "hard", weight: float = 0.0, field: str = "json_schema"
) -> ConstraintDoc:
    return ConstraintDoc(name=name, type=type, weight=weight, json_schema=json_schema, field=field)


def problems(*docs: ConstraintDoc) -> list[dict[str, Any]]:
    with pytest.raises(InvalidInput) as info:
        build_space(list(docs))
    return info.value.details


def one_problem(*docs: ConstraintDoc) -> dict[str, Any]:
    found = problems(*docs)
    assert len(found) == 1, found
    return found[0]


def test_the_example_space_builds() -> None:
    space = build_space([doc({"params": EXAMPLE_PARAMS, "relations": EXAMPLE_RELATIONS})])
    assert isinstance(space, Space)
    assert space.names == ("qps", "region", "payload_kb", "cache")
    assert [r.source for r in space.hard] == EXAMPLE_RELATIONS
    assert [r.field for r in space.hard] == ["json_schema.relations[0]", "json_schema.relations[1]"]
    assert space.hard[0].expr.names == frozenset({"region", "payload_kb"})
    assert space.params[space.index["cache"]].enum == (False, True)


Q = "json_schema.params.qps"


@pytest.mark.parametrize(
    ("spec", "field", "reason", "hint"),
    [
        ({"type": "integer", "min": "a", "max": 10}, Q + ".min", "must be a finite number", None),
        ({"type": "integer", "min": 1, "max": 10**400}, Q + ".max", "must be a finite number", None),
        ({"type": "integer", "min": 1}, Q + ".max", "is required", None),
        ({"type": "integer", "min": 10, "max": 1}, Q + ".min", "greater than max", None),
        ({"type": "integer", "min": 1.5, "max": 10}, Q + ".min", "whole number", None),
        ({"type": "number", "min": 0, "max": 1e16}, Q + ".max", "within ±1e15", None),
        ({"type": "number", "min": 0, "max": 10, "log": True}, Q + ".log", "min > 0", None),
        ({"type": "number", "min": 1, "max": 10, "log": "yes"}, Q + ".log", "true or false", None),
        ({"type": "int", "min": 1, "max": 10}, Q + ".type", "unknown type", "did you mean 'integer'?"),
        ({"type": "integer", "min": 1, "maximum": 10}, Q + ".maximum", "not a field", "did you mean 'max'?"),
        ({"type": "string", "enum": []}, Q + ".enum", "non-empty list", None),
        ({"type": "string", "enum": ["a", "a"]}, Q + ".enum", "unique", None),
        ({"type": "string", "enum": ["a", 1]}, Q + ".enum", "non-empty strings", None),
        ({"type": "boolean", "active_if": 3}, Q + ".active_if", "expression string", None),
        ("integer", Q, "must be an object", None),
    ],
)
def test_param_problems_name_their_field(spec: Any, field: str, reason: str, hint: str | None) -> None:
    p = one_problem(doc({"params": {"qps": spec}}))
    assert p["field"] == field
    assert reason in p["reason"]
    if hint is not None:
        assert p["hint"] == hint


@pytest.mark.parametrize("name", ["1abc", "and", "log", "a-b", "qps\n", "x" * 65, ""])
def test_bad_parameter_names(name: str) -> None:
    p = one_problem(doc({"params": {name: {"type": "boolean"}}}))
    assert p["field"] == f"json_schema.params.{name}"
    assert "identifier" in p["reason"]


def test_all_problems_are_reported_at_once() -> None:
    found = problems(
        doc(
            {
                "params": {
                    "a": {"type": "integer", "min": 1},
                    "b": {"type": "strng"},
                    "c": {"type": "boolean"},
                },
                "extra": 1,
            }
        )
    )
    assert {p["field"] for p in found} == {
        "json_schema.extra",
        "json_schema.params.a.max",
        "json_schema.params.b.type",
    }


def test_document_shape_problems() -> None:
    assert one_problem(doc([]))["field"] == "json_schema"
    assert one_problem(doc({"params": []}))["field"] == "json_schema.params"
    assert "no parameters" in one_problem(doc({"params": {}}))["reason"]
    p = one_problem(doc({"params": {"a": {"type": "boolean"}}, "relations": "a"}))
    assert p["field"] == "json_schema.relations"


def test_relation_errors_carry_path_position_and_hint() -> None:
    p = one_problem(doc({"params": EXAMPLE_PARAMS, "relations": ["qps > 1", "payload > 1"]}))
    assert p["field"] == "json_schema.relations[1]"
    assert p["reason"] == "unknown parameter 'payload' (at position 0)"
    assert p["hint"] == "did you mean 'payload_kb'?"
    assert p["position"] == 0


def test_every_bad_relation_is_reported() -> None:
    found = problems(
        doc(
            {
                "params": EXAMPLE_PARAMS,
                "relations": ["region == 'europe'", 5, "qps + 1", "region < 'eu'", "qps > 1"],
            }
        )
    )
    by_field = {p["field"]: p for p in found}
    assert set(by_field) == {f"json_schema.relations[{i}]" for i in range(4)}
    assert by_field["json_schema.relations[0]"]["hint"] == "did you mean 'eu'?"
    assert by_field["json_schema.relations[0]"]["position"] == 10
    assert by_field["json_schema.relations[1]"]["reason"] == "must be an expression string"
    assert "a relation must be a boolean expression" in by_field["json_schema.relations[2]"]["reason"]
    assert "strings can only be compared" in by_field["json_schema.relations[3]"]["reason"]


def test_too_many_relations_is_refused_before_parsing() -> None:
    rels = ["qps > 1"] * (MAX_RELATIONS + 1)
    p = one_problem(doc({"params": EXAMPLE_PARAMS, "relations": rels}))
    assert f"at most {MAX_RELATIONS}" in p["reason"]


def test_documents_merge_and_relations_see_every_param() -> None:
    a = doc({"params": {"qps": EXAMPLE_PARAMS["qps"]}}, name="a", field="constraints[a].json_schema")
    b = doc(
        {
            "params": {"qps": EXAMPLE_PARAMS["qps"], "cache": {"type": "boolean"}},
            "relations": ["if(cache) then(qps <= 100)"],
        },
        name="b",
        type="soft",
        weight=2.5,
        field="constraints[b].json_schema",
    )
    space = build_space([a, b])
    assert space.names == ("qps", "cache")
    assert space.hard == ()
    (rel,) = space.soft
    assert (rel.constraint, rel.weight, rel.field) == ("b", 2.5, "constraints[b].json_schema.relations[0]")


def test_conflicting_definitions_across_documents() -> None:
    a = doc(
        {"params": {"qps": {"type": "integer", "min": 1, "max": 5000}}},
        name="a",
        field="constraints[a].json_schema",
    )
    b = doc(
        {"params": {"qps": {"type": "integer", "min": 1, "max": 100}}},
        name="b",
        field="constraints[b].json_schema",
    )
    p = one_problem(a, b)
    assert p["field"] == "constraints[b].json_schema.params.qps"
    assert p["reason"] == "conflicts with the definition in constraints[a].json_schema.params.qps"


CONDITIONAL: dict[str, Any] = {
    "cache": {"type": "boolean"},
    "cache_size": {"type": "integer", "min": 1, "max": 1000, "active_if": "cache"},
    "ttl": {"type": "number", "min": 1, "max": 60, "active_if": "cache_size > 100"},
}


def test_active_if_on_a_conditional_param() -> None:
    space = build_space([doc({"params": CONDITIONAL})])
    grid = np.linspace(0.0, 0.999, 12)
    U = np.array([[c, s, 0.5] for c in (0.2, 0.8) for s in grid])
    batch = space.decode(U)
    cache, size = batch.cols["cache"], batch.cols["cache_size"]
    assert batch.active["cache"].all()
    assert (batch.active["cache_size"] == cache).all()
    # ttl exists only where its parent exists *and* the parent's value satisfies the condition
    assert (batch.active["ttl"] == (cache & (size > 100))).all()
    assert (~cache).any() and (cache & (size > 100)).any() and (cache & (size <= 100)).any()


def test_active_if_is_resolved_parent_first_in_any_declaration_order() -> None:
    reordered = {k: CONDITIONAL[k] for k in ("ttl", "cache_size", "cache")}
    space = build_space([doc({"params": reordered})])
    batch = space.decode(np.array([[0.99, 0.99, 0.2], [0.99, 0.99, 0.8], [0.99, 0.01, 0.8]]))
    assert batch.active["ttl"].tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("params", "field", "reason", "hint"),
    [
        (
            {
                "cache": {"type": "boolean"},
                "size": {"type": "integer", "min": 1, "max": 9, "active_if": "cahce"},
            },
            "json_schema.params.size.active_if",
            "unknown parameter 'cahce' (at position 0)",
            "did you mean 'cache'?",
        ),
        (
            {"size": {"type": "integer", "min": 1, "max": 9, "active_if": "size > 2"}},
            "json_schema.params.size.active_if",
            "cannot depend on itself",
            None,
        ),
        (
            {"size": {"type": "integer", "min": 1, "max": 9, "active_if": "size + 2"}},
            "json_schema.params.size.active_if",
            "boolean",
            None,
        ),
        (
            {"a": {"type": "boolean", "active_if": "b"}, "b": {"type": "boolean", "active_if": "a"}},
            "json_schema.params.a.active_if",
            "form a cycle: a -> b -> a",
            None,
        ),
    ],
)
def test_active_if_problems(params: dict[str, Any], field: str, reason: str, hint: str | None) -> None:
    p = one_problem(doc({"params": params}))
    assert p["field"] == field
    assert reason in p["reason"]
    if hint is not None:
        assert p["hint"] == hint
