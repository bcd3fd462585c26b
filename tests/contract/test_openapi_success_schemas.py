"""Every operation's success answer has a declared schema (issue 12, "API docs that tell the truth").

A JSON success answer must be a named model (`$ref`) or a union of named models (`oneOf`/`anyOf`,
e.g. a prompt or a model deployment), so a client can be generated from the document and
schemathesis's `response_schema_conformance` checks real answers against it. A new route that
returns `dict[str, Any]` without `response_model=` (or `responses={200: {"model": ...}}` when it
returns a `Response` itself) fails here. Answers that are not JSON (a CSV export, a Markdown card,
an NDJSON stream) are allowed by media type below, each with its reason; a route with no JSON
answer at all is named in NO_JSON_ANSWER. Response models allow extra fields: minor versions add
fields (docs/api-versioning.md), and a client must ignore the ones it does not know.
"""

from __future__ import annotations

from typing import Any

import pytest

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.deps import Deps

METHODS = ("get", "post", "put", "patch", "delete")

NOT_JSON = {
    "text/csv": "coverage with format=csv: the JSON answer's figures as a table",
    "text/markdown": "a model card for people: the JSON card's content rendered",
    "application/x-ndjson": "tests:suggest with stream: true, one JSON object a line: no single schema",
    "image/png": "an AutoML report's plot, or a model card's copy of it: drawn from the JSON's tables",
}
"""Media types a success answer may have without a named schema, and why."""

NO_JSON_ANSWER: dict[str, str] = {
    "GET /v1/experiments/{experiment_id}/report/{file}": "a PNG; the tables it draws are in the report",
    "GET /v1/models/{model_id}/versions/{version}/card/{file}": "a PNG; the tables are in the card's JSON",
}
"""`METHOD path` of operations whose success answer has no JSON at all, and why."""


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    return create_app(Deps(store=store, blobs=blobs), Settings(backend="memory")).openapi()


def _named(schema: dict[str, Any]) -> bool:
    """A `$ref`, or a union (`oneOf`/`anyOf`) every member of which is one."""
    if "$ref" in schema:
        return True
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return bool(schema[key]) and all(_named(s) for s in schema[key])
    return False


def undeclared(doc: dict[str, Any]) -> list[str]:
    """`METHOD path: why` for every success answer without a declared schema."""
    out: list[str] = []
    for path, ops in doc["paths"].items():
        for method in METHODS:
            op = ops.get(method)
            if op is None:
                continue
            name = f"{method.upper()} {path}"
            success = {code: r for code, r in op.get("responses", {}).items() if code.startswith("2")}
            if not success:
                out.append(f"{name}: no success response documented")
                continue
            for code, resp in success.items():
                content = resp.get("content") or {}
                if not content and code != "204":
                    out.append(f"{name}: {code} documents no content")
                for media, body in content.items():
                    if media in NOT_JSON:
                        continue
                    if not _named(body.get("schema") or {}):
                        out.append(f"{name}: {code} {media} has no declared schema")
    return sorted(out)


def _component(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def closed_models(doc: dict[str, Any]) -> list[str]:
    """Named success schemas that refuse extra fields (`additionalProperties: false`): a minor
    version's new field would break a client validating against them."""
    out: set[str] = set()
    for ops in doc["paths"].values():
        for method in METHODS:
            for code, resp in (ops.get(method) or {}).get("responses", {}).items():
                if not code.startswith("2"):
                    continue
                for body in (resp.get("content") or {}).values():
                    schema = body.get("schema") or {}
                    refs = [schema] if "$ref" in schema else schema.get("oneOf", schema.get("anyOf", []))
                    for s in refs:
                        ref = s.get("$ref")
                        if ref and _component(doc, ref).get("additionalProperties") is False:
                            out.add(ref.rsplit("/", 1)[-1])
    return sorted(out)


def test_every_success_answer_has_a_declared_schema(openapi: dict[str, Any]) -> None:
    missing = [m for m in undeclared(openapi) if m.split(":")[0] not in NO_JSON_ANSWER]
    assert not missing, (
        f"{len(missing)} success answers without a declared schema:\n  "
        + "\n  ".join(missing)
        + "\nDeclare a ResponseModel (optiloop.api.models.responses*) with every property described and pass "
        "it as `response_model=` (or `responses={200: {'model': ...}}` when the route returns a Response)."
    )


def test_the_allow_list_names_only_real_operations(openapi: dict[str, Any]) -> None:
    ops = {f"{m.upper()} {p}" for p, o in openapi["paths"].items() for m in o if m in METHODS}
    assert not set(NO_JSON_ANSWER) - ops, "NO_JSON_ANSWER names operations that do not exist"


def test_success_models_allow_extra_fields(openapi: dict[str, Any]) -> None:
    assert not closed_models(openapi), (
        "these success schemas refuse extra fields; derive them from ResponseModel: "
        + ", ".join(closed_models(openapi))
    )


def test_the_check_catches_an_undeclared_answer() -> None:
    """The checks themselves: a bare object, a union with an inline member and a closed model fail."""
    doc: dict[str, Any] = {
        "paths": {
            "/a": {
                "get": {
                    "responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}
                }
            },
            "/b": {
                "post": {
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [{"$ref": "#/components/schemas/C"}, {"type": "object"}]
                                    }
                                }
                            }
                        }
                    }
                }
            },
            "/c": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/C"}}}
                        },
                    }
                },
                "delete": {"responses": {"204": {"description": "gone"}}},
            },
        },
        "components": {"schemas": {"C": {"type": "object", "additionalProperties": False}}},
    }
    assert undeclared(doc) == [
        "GET /a: 200 application/json has no declared schema",
        "POST /b: 201 application/json has no declared schema",
    ]
    assert closed_models(doc) == ["C"]
