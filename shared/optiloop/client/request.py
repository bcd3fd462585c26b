"""One API call described as data (operation, filled path, query, body), and the paging arithmetic.

Sync and async clients share everything that is not I/O: resources build a `Request`, a caller
sends it; how a listing continues is a `Cursor` read off the page just received.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from optiloop.client.operations import OPERATIONS, Operation

JSON = dict[str, Any]
"""A JSON object as the API sends it; its fields are documented at /docs (the OpenAPI document)."""

QueryValue = str | int | float | bool | None


@dataclass(frozen=True)
class Request:
    name: str  # the OPERATIONS key, e.g. "projects.get"
    op: Operation
    path: str  # filled and percent-encoded, relative to the base URL
    params: dict[str, str | int | float | bool] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def idempotent(self) -> bool:
        return self.op.idempotent


def build(
    name: str,
    path: Mapping[str, str | int] | None = None,
    *,
    params: Mapping[str, QueryValue] | None = None,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request for the operation `name`; None query values are left out (the server's default)."""
    op = OPERATIONS[name]
    encoded = {k: quote(str(v), safe=":@-._~") for k, v in (path or {}).items()}
    return Request(
        name=name,
        op=op,
        path=op.path.format(**encoded).lstrip("/"),
        params={k: v for k, v in (params or {}).items() if v is not None},
        json=json,
        content=content,
        headers=dict(headers or {}),
    )


def fields(**values: Any) -> JSON:
    """A request body of the given fields, without those left as None (the server's defaults)."""
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Cursor:
    """How a listing continues. `follow`: (field of the page, query parameter) pairs: the next page is
    asked with the parameter set to the field's value, and the listing ends when every field is
    null."""

    follow: tuple[tuple[str, str], ...] = ()


def next_request(req: Request, page: Any, cursor: Cursor) -> Request | None:
    """The request for the page after `page`, or None when `page` was the last."""
    if not isinstance(page, Mapping):
        return None
    items = page.get("items")
    if not isinstance(items, list) or not items:
        return None
    params = dict(req.params)
    moved = False
    for page_field, param in cursor.follow:
        value = page.get(page_field)
        if value is not None:
            params[param] = value
            moved = True
    if not moved:
        return None
    return Request(req.name, req.op, req.path, params, req.json, req.content, req.headers)


def items_of(page: Any) -> list[JSON]:
    items = page.get("items") if isinstance(page, Mapping) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
