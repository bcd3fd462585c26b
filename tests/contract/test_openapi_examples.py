"""Every request-body example the OpenAPI document shows validates against the schema it is shown with.

test_openapi_descriptions checks the examples declared on request models against the models; this
checks the document as a client reads it: examples on the media type (`openapi_extra`, `Body(examples=)`)
too, after FastAPI's processing (which drops null values, so `{"budget_cents": null}` became `{}`), and
every `$ref` resolved inside the document (a reference to a component that is not there fails here).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from referencing.exceptions import Unresolvable

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.deps import Deps

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    return create_app(Deps(store=store, blobs=blobs), Settings(backend="memory")).openapi()


def _examples(openapi: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for each JSON request-body example: on the media type, on its schema,
    or on the component its schema refers to."""
    components = openapi.get("components", {}).get("schemas", {})
    found = []
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            media = (
                op.get("requestBody", {}).get("content", {}).get("application/json")
                if method in METHODS
                else None
            )
            if not media:
                continue
            schema = media.get("schema", {})
            where = f"{method.upper()} {path}"
            shown = [media["example"]] if "example" in media else []
            shown += [e["value"] for e in (media.get("examples") or {}).values()]
            ref = schema.get("$ref", "")
            target = components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
            shown += list(target.get("examples") or [])
            found += [(where, schema, example) for example in shown]
    return found


def _problems(openapi: dict[str, Any]) -> list[str]:
    components = openapi.get("components", {})
    bad = []
    for where, schema, example in _examples(openapi):
        try:
            jsonschema.Draft202012Validator({**schema, "components": components}).validate(example)
        except jsonschema.ValidationError as e:
            bad.append(f"{where}: {example!r}: {e.message}")
        except Unresolvable as e:  # a $ref to nothing in the document
            bad.append(f"{where}: {type(e).__name__}: {str(e)[:200]}")
    return bad


def test_every_shown_example_validates_against_its_schema(openapi: dict[str, Any]) -> None:
    assert len(_examples(openapi)) >= 50  # every body-taking route shows one; a broken collector finds none
    bad = _problems(openapi)
    assert not bad, "\n".join(bad)


def test_the_checker_catches_a_wrong_example_and_a_dangling_ref() -> None:
    doc: dict[str, Any] = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/M"},
                                "example": {"n": "not a number"},
                            }
                        }
                    }
                }
            },
            "/y": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Gone"},
                                "example": {},
                            }
                        }
                    }
                }
            },
        },
        "components": {"schemas": {"M": {"type": "object", "properties": {"n": {"type": "number"}}}}},
    }
    bad = _problems(doc)
    assert len(bad) == 2, bad
    assert bad[0].startswith("POST /x: {'n': 'not a number'}") and "is not of type 'number'" in bad[0]
    assert bad[1].startswith("POST /y: ") and "Gone" in bad[1]
