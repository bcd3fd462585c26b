"""Every operation has a summary and a description, every parameter and property a description.

What is still undescribed today is listed in openapi_description_gaps.txt (the baseline). This test
fails on a gap that is not in the baseline (a new route or field without a description: describe it
where it is declared) and on a baseline line that is no longer a gap (it was described: delete the
line), so the list only shrinks. Regenerate the baseline with

    .venv/bin/python -m optiloop.api.openapi_docs > tests/contract/openapi_description_gaps.txt
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from optiloop.api.app import create_app
from optiloop.api.openapi_docs import describe_common, description_gaps
from optiloop.config import Settings
from optiloop.deps import Deps

BASELINE = Path(__file__).with_name("openapi_description_gaps.txt")
HOW = (
    "Describe it where it is declared: a docstring on the handler (operation description), "
    "`summary=` on the route decorator, `Query(description=...)`/`Path(description=...)`, "
    "`Field(description=...)` on the model. Only if it cannot be described yet, add the line to "
    "tests/contract/openapi_description_gaps.txt (python -m optiloop.api.openapi_docs prints them all)."
)


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    return create_app(Deps(store=store, blobs=blobs), Settings(backend="memory")).openapi()


def _baseline() -> set[str]:
    return {line for line in BASELINE.read_text().splitlines() if line.strip()}


def test_nothing_new_is_undescribed(openapi: dict[str, Any]) -> None:
    new = sorted(set(description_gaps(openapi)) - _baseline())
    assert not new, f"{len(new)} undescribed in the OpenAPI document:\n  " + "\n  ".join(new) + f"\n{HOW}"


def test_the_baseline_only_shrinks(openapi: dict[str, Any]) -> None:
    fixed = sorted(_baseline() - set(description_gaps(openapi)))
    assert not fixed, (
        "described now (or gone), delete these lines from tests/contract/openapi_description_gaps.txt:\n  "
        + "\n  ".join(fixed)
    )


def test_the_core_loop_is_fully_described(openapi: dict[str, Any]) -> None:
    """The routes of the README's first loop carry no gap at all: what a newcomer reads first."""
    core = ("/v1/projects", "/v1/projects/{project_id}", "/v1/projects/{project_id}/tests")
    gaps = [
        g
        for g in description_gaps(openapi)
        if g.startswith("operation") and g.split(" ")[2].rstrip(":") in core
    ]
    assert not gaps, gaps


def _request_models() -> list[type]:
    from optiloop.api.models.common import RequestModel

    found, todo = [], list(RequestModel.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_request_body_example_is_valid(openapi: dict[str, Any]) -> None:
    """An example the document shows must be accepted as it is written: a copied example that fails
    would be worse than none."""
    checked = 0
    for model in _request_models():
        for example in (model.model_config.get("json_schema_extra") or {}).get("examples", []):
            model.model_validate(example)  # type: ignore[attr-defined]
            checked += 1
    assert checked >= 7


def test_the_checker_finds_each_kind_of_gap() -> None:
    doc: dict[str, Any] = {
        "paths": {
            "/v1/x/{project_id}": {
                "get": {
                    "summary": "X",
                    "parameters": [{"name": "project_id", "in": "path"}, {"name": "q", "in": "query"}],
                },
                "post": {
                    "summary": "Y",
                    "description": "Y.",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/M"}}}
                    },
                },
            }
        },
        "components": {
            "schemas": {
                "M": {
                    "properties": {
                        "a": {"type": "string"},
                        "b": {"$ref": "#/c"},
                        "created_at": {"type": "string"},
                    }
                }
            }
        },
    }
    describe_common(doc)
    assert description_gaps(doc) == [
        "operation GET /v1/x/{project_id}: no description",
        "operation POST /v1/x/{project_id}: no request body example",
        "parameter GET /v1/x/{project_id} query.q: no description",
        "property M.a: no description",
    ]
    doc["components"]["schemas"]["M"]["properties"]["created_at"]["description"] = "mine"
    doc["components"]["schemas"]["M"]["examples"] = [{"a": "x"}]
    describe_common(doc)
    assert "operation POST /v1/x/{project_id}: no request body example" not in description_gaps(doc)
    assert doc["components"]["schemas"]["M"]["properties"]["created_at"]["description"] == "mine"


def test_the_checker_reads_bodies_written_in_place() -> None:
    """A body documented with `openapi_extra` (or an inlined model) has no component: its properties are
    checked where they are, at any depth, through arrays and alternatives."""
    body = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "description": "described"},
                    "b": {"type": "object", "properties": {"c": {"type": "integer"}}},
                },
            },
            {"type": "object", "properties": {"d": {"type": "array", "items": {"properties": {"e": {}}}}}},
        ]
    }
    doc: dict[str, Any] = {
        "paths": {
            "/v1/y": {
                "post": {
                    "summary": "Y",
                    "description": "Y.",
                    "requestBody": {"content": {"application/json": {"schema": body, "example": {"a": "x"}}}},
                }
            }
        }
    }
    assert description_gaps(doc) == [
        "property POST /v1/y application/json body[oneOf0].b.c: no description",
        "property POST /v1/y application/json body[oneOf0].b: no description",
        "property POST /v1/y application/json body[oneOf1].d: no description",
        "property POST /v1/y application/json body[oneOf1].d[].e: no description",
    ]
