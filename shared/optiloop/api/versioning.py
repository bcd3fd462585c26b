"""API versioning users can rely on: the API version, deprecations, and the published contract.

The path carries the major version (`/v1`); minor versions add routes and fields and never take
one away. A route or field leaves only after it has been deprecated for two minor versions: while
deprecated, every response on it carries `Deprecation` (RFC 9745: when it was deprecated),
`Sunset` (RFC 8594: the date after which it may be gone) and a `Link` to its successor, and the
OpenAPI document marks it `deprecated`. Every response carries `OptiLoop-API-Version`.

`contract(openapi)` reduces an OpenAPI document to what clients depend on — each operation and the
fields of its success response — and `breaking_changes(published, current)` lists what disappeared
without that notice; tests/contract/test_openapi_contract.py runs it against the snapshot of the
last release (docs/api-versioning.md has the policy, CHANGELOG.md the releases).

    python -m optiloop.api.versioning > tests/contract/openapi_published.json   # after a release
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_VERSION = "1.1"
HEADER = "OptiLoop-API-Version"
DEPRECATION_MINORS = 2  # a deprecated route or field stays this many minor versions


@dataclass(frozen=True)
class Deprecation:
    since: str  # the API version that deprecated it, e.g. "1.1"
    deprecated_at: datetime  # when (the Deprecation header)
    sunset: datetime  # not removed before this date (the Sunset header)
    successor: str | None = None  # the path that replaces it, if any

    def headers(self) -> list[tuple[bytes, bytes]]:
        out = [
            (b"deprecation", f"@{int(self.deprecated_at.timestamp())}".encode()),
            (b"sunset", format_datetime(self.sunset.astimezone(UTC), usegmt=True).encode()),
        ]
        if self.successor:
            out.append((b"link", f'<{self.successor}>; rel="successor-version"'.encode()))
        return out


# (METHOD, path template) -> its deprecation.
# 1.1: governance policies moved to /v1/policies (project in the body or query), the path both seeds
# name; /v1/projects/{project_id}/policies is kept free for learned suggestion policies.
_POLICIES_MOVED = Deprecation(
    since="1.1",
    deprecated_at=datetime(2026, 3, 1, tzinfo=UTC),
    sunset=datetime(2026, 12, 31, tzinfo=UTC),
    successor="/v1/policies",
)
DEPRECATED: dict[tuple[str, str], Deprecation] = {
    ("PUT", "/v1/projects/{project_id}/policies/{name}"): _POLICIES_MOVED,
    ("POST", "/v1/projects/{project_id}/policies"): _POLICIES_MOVED,
    ("GET", "/v1/projects/{project_id}/policies"): _POLICIES_MOVED,
    ("DELETE", "/v1/projects/{project_id}/policies/{name}"): _POLICIES_MOVED,
}


class VersionHeaders:
    """Adds the API version to every response, and the deprecation headers on deprecated routes
    (matched on the route template FastAPI resolved, so `/v1/projects/prj_1` matches its route)."""

    def __init__(self, app: ASGIApp, deprecated: dict[tuple[str, str], Deprecation] | None = None) -> None:
        self.app = app
        self.deprecated = DEPRECATED if deprecated is None else deprecated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), API_VERSION.encode()))
                route = scope.get("route")
                template = getattr(route, "path", None)
                dep = self.deprecated.get((scope["method"], template)) if template else None
                if dep is not None:
                    headers.extend(dep.headers())
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mark_deprecated(openapi: dict[str, Any], deprecated: dict[tuple[str, str], Deprecation]) -> None:
    """Flag deprecated operations in an OpenAPI document, with their sunset date."""
    for (method, path), dep in deprecated.items():
        op = openapi.get("paths", {}).get(path, {}).get(method.lower())
        if op is not None:
            op["deprecated"] = True
            op["x-sunset"] = dep.sunset.date().isoformat()
            op["x-deprecated-since"] = dep.since


# ------------------------------------------------------------------ the published contract
def contract(openapi: dict[str, Any]) -> dict[str, Any]:
    """What clients depend on: per operation, whether it is deprecated and the dotted paths of the
    fields of its success (2xx) JSON responses (`tests[].id`), `$ref`s resolved, 6 levels deep."""
    schemas = openapi.get("components", {}).get("schemas", {})
    ops: dict[str, Any] = {}
    for path, item in openapi.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            fields: set[str] = set()
            for status, resp in op.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                schema = resp.get("content", {}).get("application/json", {}).get("schema")
                if schema:
                    _fields(schema, schemas, "", fields, 0)
            ops[f"{method.upper()} {path}"] = {
                "deprecated": bool(op.get("deprecated", False)),
                "fields": sorted(fields),
            }
    return {"api_version": openapi.get("info", {}).get("version"), "operations": dict(sorted(ops.items()))}


def _fields(schema: dict[str, Any], schemas: dict[str, Any], prefix: str, out: set[str], depth: int) -> None:
    if depth > 6:
        return
    ref = schema.get("$ref")
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            _fields(sub, schemas, prefix, out, depth + 1)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        _fields(schema["items"], schemas, prefix + "[]", out, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        if isinstance(sub, dict):
            _fields(sub, schemas, path, out, depth + 1)


def _minor(version: str | None) -> int:
    try:
        return int(str(version).split(".")[1])
    except (IndexError, ValueError):
        return 0


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What the current contract dropped that the published one promised. An operation or field may
    go only if the published contract had it deprecated and DEPRECATION_MINORS minor versions have
    passed since (a deprecated operation's fields go with it)."""
    problems: list[str] = []
    now = _minor(current.get("api_version"))
    then = _minor(published.get("api_version"))
    may_go = now - then >= DEPRECATION_MINORS
    for key, op in published.get("operations", {}).items():
        cur = current.get("operations", {}).get(key)
        if cur is None:
            if not (op.get("deprecated") and may_go):
                problems.append(f"{key}: removed without {DEPRECATION_MINORS} minor versions of deprecation")
            continue
        gone = sorted(set(op.get("fields", [])) - set(cur.get("fields", [])))
        if gone and not (op.get("deprecated") and may_go):
            problems.append(f"{key}: response fields removed: {', '.join(gone)}")
    return problems


def main() -> None:
    """Print the current contract (JSON), for the snapshot a release publishes."""
    from optiloop.api.app import create_app
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.factory import open_memory

    store, blobs = open_memory()
    app = create_app(Deps(store=store, blobs=blobs), Settings(backend="memory"))
    json.dump(contract(app.openapi()), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
