"""The error responses in the OpenAPI document, in the shape the API really answers.

FastAPI documents a 422 as `{"detail": [...]}` (its HTTPValidationError) and nothing else; OptiLoop
answers every error as `{"error": {"code", "message", "details": [{"field", "reason", "hint"}],
"request_id"}}` (optiloop.api.errors) and refuses in the same few ways on every route. This adds, to
each operation that does not document them itself, the responses it can give: 401/403/429 where a
key is needed, 404 where the request names something, 409 where it writes, 400/413/415 where it takes a
body, and 422 everywhere — all with the one `Error` schema — so generated clients and contract
testers (Schemathesis runs in the suite) see the truth.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "description": "What went wrong: one shape for every error the platform answers.",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable: invalid_input, not_found, ..."},
                "message": {"type": "string", "description": "what went wrong, for a person"},
                "details": {
                    "type": "array",
                    "description": "one item per problem: which field (a JSON path) and why",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {
                            "field": {"type": "string"},
                            "reason": {"type": "string"},
                            "hint": {"type": "string"},
                        },
                    },
                },
                "request_id": {"type": "string", "description": "quote it when asking for help"},
            },
        }
    },
}
# public routes: no key, so no 401/403 (the token route documents its own OAuth2 errors)
PUBLIC = frozenset({"/v1/healthz", "/v1/auth/token", "/.well-known/jwks.json"})
WRITES = frozenset({"post", "put", "patch", "delete"})
DESCRIPTIONS = {
    "400": "The body is not valid JSON.",
    "401": "No key or token, or one that is unknown, expired or revoked.",
    "403": "The key's role or project scope does not allow this (or the four-eyes rule refuses it).",
    "404": "Nothing with an id the request names (in the path, the query or the body), or not in the "
    "key's project.",
    "409": "The state forbids it now: a status, a spent budget, an open approval, or a contended "
    "write (then with Retry-After).",
    "413": "The body is larger than the server's limit (OPTILOOP_MAX_BODY_BYTES; a table upload: "
    "OPTILOOP_MAX_UPLOAD_BYTES).",
    "415": "The body is not JSON (Content-Type).",
    "422": "A field is wrong: each item of `details` names it (a JSON path) and says why.",
    "429": "Too many requests from this principal; wait Retry-After seconds.",
}


def _response(status: str) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(openapi: dict[str, Any]) -> None:
    """Add the error responses (in place); an operation's own documented responses are kept."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            wanted = ["422"]
            if path not in PUBLIC:
                wanted += ["401", "403", "429"]
            if "{" in path or path not in PUBLIC:  # ids come in the path, the query or the body
                wanted.append("404")
            if method in WRITES and path not in PUBLIC:
                wanted.append("409")
            if "requestBody" in op:
                wanted += ["400", "413", "415"]
            for status in wanted:
                current = responses.get(status)
                schema = (current or {}).get("content", {}).get("application/json", {}).get("schema", {})
                if current is None or schema.get("$ref", "").endswith("/HTTPValidationError"):
                    responses[status] = _response(status)
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f"/{unused}" not in str(openapi.get("paths")):
            del components[unused]
