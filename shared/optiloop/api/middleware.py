"""Request guards that must run before any JSON is parsed.

* The request line and headers are measured first: past `max_header_bytes` a 431 (under `optiloop
  serve` the connection's own guard, `optiloop.api.server`, stops a head that never ends sooner).
* The body is read up to the limit here (by Content-Length, and by counting streamed chunks for
  chunked uploads that announce no length), so an oversized request costs at most `max_body_bytes`
  of memory (`max_upload_bytes` for a multipart table upload, `max_predict_bytes` for a batch of
  instances to score) and is refused with 413 naming the limit.
* The whole body must arrive within `body_timeout_s` of the headers: a client that announces a body
  and stalls gets a 408 and the connection is closed, instead of holding a connection (and this
  coroutine) forever.
* JSON nesting is then measured without parsing: Python's json parser recurses, and a body of
  100,000 '[' would otherwise end in a RecursionError.

Every refusal is in the API's error shape, with the field, the reason and the setting to change.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optiloop.api.errors import error_body

MAX_JSON_DEPTH = 64
# JSON Lines is JSON too (dataset uploads); its depth is measured the same way
JSON_TYPES = frozenset({b"application/json", b"application/x-ndjson", b"application/jsonl"})
# Raw binary uploads are accepted only on custom `...:upload` methods (a model.tar.gz), which read
# the body themselves; the body limit and timeout apply to them as to any request.
BINARY_TYPES = frozenset({b"application/gzip", b"application/x-gzip", b"application/octet-stream"})
UPLOAD_SUFFIX = ":upload"
# multipart/form-data only where a route reads a form itself (AutoML's table upload)
MULTIPART_PATHS = frozenset({"/v1/datasets/ingest"})
PREDICT_PREFIX = "/v1/inference/"  # POST: a batch of instances, held to max_predict_bytes
# application/x-www-form-urlencoded only where OAuth2 requires it (RFC 6749 4.4.2: the token request)
FORM_PATHS = frozenset({"/v1/auth/token"})
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if brackets nest deeper than `limit` (strings are skipped, so '[[[' inside text is fine)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class RequestGuard:
    """Pure ASGI (not BaseHTTPMiddleware) so it can stop reading a body mid-stream."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_upload_bytes: int = 0,
        max_predict_bytes: int = 0,
        max_header_bytes: int = 16 * 1024,
        body_timeout_s: float = 30.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # a table upload (multipart on MULTIPART_PATHS) may be larger; never smaller than any body
        self.max_upload_bytes = max(max_upload_bytes, max_body_bytes)
        self.max_predict_bytes = max(max_predict_bytes, max_body_bytes)
        self.max_json_depth = max_json_depth
        self.max_header_bytes = max_header_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = "req_" + uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        raw_headers = scope.get("headers") or []
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        head += sum(len(name) + len(value) + 4 for name, value in raw_headers)
        if head > self.max_header_bytes:
            await self._reject(
                send_with_id,
                431,
                "request_headers_too_large",
                f"the request line and headers exceed the limit of {self.max_header_bytes} bytes",
                "headers",
                f"at most {self.max_header_bytes} bytes (OPTILOOP_MAX_HEADER_BYTES)",
                rid,
            )
            return

        headers = dict(raw_headers)
        upload = (
            scope.get("path") in MULTIPART_PATHS
            and headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"multipart/form-data"
        )
        predict = scope.get("method") == "POST" and str(scope.get("path", "")).startswith(PREDICT_PREFIX)
        limit, variable = (
            (self.max_upload_bytes, "OPTILOOP_MAX_UPLOAD_BYTES")
            if upload
            else (self.max_predict_bytes, "OPTILOOP_MAX_PREDICT_BYTES")
            if predict
            else (self.max_body_bytes, "OPTILOOP_MAX_BODY_BYTES")
        )
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await self._reject(
                    send_with_id,
                    400,
                    "bad_request",
                    "Content-Length is not a number",
                    "headers.content-length",
                    "must be a non-negative integer",
                    rid,
                )
                return
            if int(length) > limit:
                await self._too_large(send_with_id, rid, limit, variable)
                return

        chunks: list[bytes] = []
        size = 0
        more = True
        deadline = anyio.current_time() + self.body_timeout_s
        while more:
            message = await self._receive_by(receive, deadline)
            if message is None:
                await self._reject(
                    send_with_id,
                    408,
                    "request_timeout",
                    f"the body did not arrive within {self.body_timeout_s:g} s",
                    "body",
                    f"send the whole body within {self.body_timeout_s:g} s of the headers "
                    "(OPTILOOP_BODY_TIMEOUT_S)",
                    rid,
                )
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send_with_id, rid, limit, variable)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        path = str(scope.get("path", ""))
        binary = (
            (ctype in BINARY_TYPES and path.endswith(UPLOAD_SUFFIX))
            or (ctype == b"multipart/form-data" and path in MULTIPART_PATHS)
            or (ctype == b"application/x-www-form-urlencoded" and path in FORM_PATHS)
        )
        if body and ctype and not (ctype in JSON_TYPES or ctype.endswith(b"+json") or binary):
            # curl -d sends application/x-www-form-urlencoded; say so instead of a puzzling 422
            await self._reject(
                send_with_id,
                415,
                "unsupported_media_type",
                f"the body is {ctype.decode(errors='replace')}; the API takes JSON",
                "headers.content-type",
                "send the body as JSON with Content-Type: application/json",
                rid,
            )
            return

        if body and not binary and json_depth_exceeds(body, self.max_json_depth):
            await self._reject(
                send_with_id,
                400,
                "json_too_deep",
                f"the JSON body nests deeper than {self.max_json_depth} levels",
                "body",
                f"nesting depth must be at most {self.max_json_depth}",
                rid,
            )
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_id)

    @staticmethod
    async def _receive_by(receive: Receive, deadline: float) -> Message | None:
        """The next message, or None if it has not come by `deadline` (anyio's clock)."""
        with anyio.move_on_after(deadline - anyio.current_time()):
            return await receive()
        return None

    async def _too_large(self, send: Send, rid: str, limit: int, variable: str) -> None:
        await self._reject(
            send,
            413,
            "payload_too_large",
            f"the body exceeds the limit of {limit} bytes",
            "body",
            f"at most {limit} bytes ({variable})",
            rid,
        )

    @staticmethod
    async def _reject(
        send: Send, status: int, code: str, message: str, field: str, reason: str, rid: str
    ) -> None:
        payload: dict[str, Any] = error_body(code, message, [{"field": field, "reason": reason}], rid)
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
