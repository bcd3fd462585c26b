"""Lines of an NDJSON answer (`tests:suggest` with `stream: true`) as objects.

Once a stream has begun its status is 200, so an error met later arrives as a line,
`{"error": {..., "status": 409}}`; it is raised where it occurs, as the exception the same error
would have been as a plain answer.
"""

from __future__ import annotations

import json
from typing import Any

from optiloop.client.errors import OptiLoopClientError, error_from_body
from optiloop.client.request import JSON, Request


def decode_line(line: str, req: Request) -> JSON | None:
    """The object on one line; None for a blank line; raises an APIError for an error line."""
    if not line.strip():
        return None
    try:
        item: Any = json.loads(line)
    except json.JSONDecodeError as e:
        raise OptiLoopClientError(
            f"{req.op.key}: a streamed line is not JSON ({e.msg}): {line[:200]!r}"
        ) from None
    if not isinstance(item, dict):
        raise OptiLoopClientError(f"{req.op.key}: a streamed line is not a JSON object: {line[:200]!r}")
    err = item.get("error")
    if isinstance(err, dict):
        status = err.get("status")
        raise error_from_body(
            status if isinstance(status, int) else 500, err, method=req.op.method, path="/" + req.path
        )
    return item
