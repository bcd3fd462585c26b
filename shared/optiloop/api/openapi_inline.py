"""A request model's JSON schema for a route that reads its body as a plain dict.

Such a route (one body, two shapes told apart by a field) documents the body with `openapi_extra`, so
FastAPI never registers the models as components: a `$ref` to one would point nowhere in the
document. The schema goes in place instead, with its `$defs` substituted where they are used.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` substituted in place (no `$ref` left to resolve)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def sub(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return sub(defs[ref.rsplit("/", 1)[-1]])
            return {k: sub(v) for k, v in node.items()}
        return [sub(v) for v in node] if isinstance(node, list) else node

    return dict(sub(schema))
