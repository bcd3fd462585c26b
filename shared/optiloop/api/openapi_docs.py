"""The OpenAPI document tells the truth about every field: shared meanings, and what is still undescribed.

Two jobs:

* `describe_common` gives a description to parameters and properties whose name means the same thing
  everywhere in the API (a `{project_id}` in a path, `limit` on a listing, `created_at` on a record),
  where the route or model left it out. It never overrides a description a route or model wrote, so a
  field whose meaning differs from the glossary's says so where it is declared.
* `description_gaps` lists what is left without one: an operation without a summary or description
  (or, taking a JSON body, without an example of it), a parameter or a component property without a
  description. tests/contract/test_openapi_descriptions.py
  fails on any gap not in its baseline file, and on a baseline line that is no longer a gap, so the
  list only shrinks. After describing things, rewrite the baseline:

    python -m optiloop.api.openapi_docs > tests/contract/openapi_description_gaps.txt
"""

from __future__ import annotations

import sys
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")

# Path and query parameters: the same name, the same meaning, on every route.
PARAMETERS: dict[str, str] = {
    "project_id": "The project's id (`prj_...`); a key bound to one project may only name that one.",
    "prompt_id": "The prompt's id (`prm_...`).",
    "version_id": "The version's id.",
    "dataset_id": "The dataset's id (`ds_...`): a golden set or an ingested table.",
    "deployment_id": "The deployment's id (`dep_...`).",
    "model_id": "The model's id (`mdl_...`).",
    "experiment_id": "The experiment's id (`exp_...`).",
    "job_id": "The training job's id.",
    "webhook_id": "The webhook's id.",
    "approval_id": "The approval request's id.",
    "eval_run_id": "The evaluation run's id.",
    "monitor_id": "The monitor's id.",
    "connector_id": "The connector's id.",
    "key_id": "The API key's id (`key_...`), never the key itself.",
    "trace_id": "The trace's id.",
    "execution_id": "The workflow execution's id.",
    "limit": "At most this many items on the page.",
    "after": "Where the listing goes on: the `next_after` of the previous page, as received.",
}

# Properties that mean the same on every record that carries them.
PROPERTIES: dict[str, str] = {
    "project_id": "The project it belongs to (`prj_...`).",
    "created_at": "When it was created (ISO-8601, UTC).",
    "created_by": "The principal that created it (a key's principal, a token's subject).",
    "updated_at": "When it last changed (ISO-8601, UTC).",
    "items": "This page's items, in the listing's order.",
    "next_after": "Pass as `after` for the next page; null on the last page.",
    "request_id": "The request's id, also in the `x-request-id` header; quote it when reporting a problem.",
    "deleted_at": "When it was deleted (soft delete; ISO-8601, UTC).",
}


def describe_common(openapi: dict[str, Any]) -> None:
    """Fill missing descriptions of glossary names, in place; existing descriptions are kept."""
    for item in openapi.get("paths", {}).values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for param in op.get("parameters", []):
                text = PARAMETERS.get(param.get("name", ""))
                if text and not param.get("description"):
                    param["description"] = text
    for schema in openapi.get("components", {}).get("schemas", {}).values():
        for name, prop in (schema.get("properties") or {}).items():
            text = PROPERTIES.get(name)
            if text and isinstance(prop, dict) and not prop.get("description"):
                prop["description"] = text


def _described(prop: Any) -> bool:
    """A description, or a bare reference to a component (which is described where it is declared)."""
    if not isinstance(prop, dict):
        return True
    if prop.get("description"):
        return True
    return set(prop) <= {"$ref"} and "$ref" in prop


def _needs_body_example(openapi: dict[str, Any], op: dict[str, Any]) -> bool:
    """A JSON request body with no example: neither on the media type nor on its (referenced) schema."""
    media = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not isinstance(media, dict) or media.get("example") is not None or media.get("examples"):
        return False
    schema = media.get("schema") or {}
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = openapi.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return not (schema.get("examples") or schema.get("example") is not None)


def _inline_gaps(schema: Any, where: str, gaps: list[str]) -> None:
    """Undescribed properties of a body schema written in place (`openapi_extra`, an inlined model),
    which no component lists: at any depth, through items and alternatives."""
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not _described(prop):
            gaps.append(f"property {where}.{name}: no description")
        _inline_gaps(prop, f"{where}.{name}", gaps)
    _inline_gaps(schema.get("items"), f"{where}[]", gaps)
    for key in ("anyOf", "oneOf", "allOf"):
        for n, alt in enumerate(schema.get(key) or []):
            _inline_gaps(alt, f"{where}[{key}{n}]", gaps)


def description_gaps(openapi: dict[str, Any]) -> list[str]:
    """One line per undescribed operation, parameter and property (of a component, or of a request
    body written in place), sorted."""
    gaps: list[str] = []
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                gaps.append(f"operation {where}: no summary")
            if not op.get("description"):
                gaps.append(f"operation {where}: no description")
            if _needs_body_example(openapi, op):
                gaps.append(f"operation {where}: no request body example")
            for param in op.get("parameters", []):
                if not param.get("description"):
                    gaps.append(f"parameter {where} {param.get('in')}.{param.get('name')}: no description")
            for media_type, media in (op.get("requestBody", {}).get("content") or {}).items():
                _inline_gaps(media.get("schema"), f"{where} {media_type} body", gaps)
    for name, schema in openapi.get("components", {}).get("schemas", {}).items():
        for prop_name, prop in (schema.get("properties") or {}).items():
            if not _described(prop):
                gaps.append(f"property {name}.{prop_name}: no description")
    return sorted(gaps)


def main() -> None:  # pragma: no cover - a maintenance command
    from optiloop.api.app import create_app
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    app = create_app(Deps(store=store, blobs=blobs), Settings(backend="memory"))
    sys.stdout.write("".join(f"{line}\n" for line in description_gaps(app.openapi())))


if __name__ == "__main__":  # pragma: no cover
    main()
