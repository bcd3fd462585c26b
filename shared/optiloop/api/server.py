"""`optiloop serve`: uvicorn, with limits on what a connection may hold before the app sees a request.

uvicorn bounds idle time between requests (`timeout_keep_alive`) but nothing before one: a connection
that sends nothing, or a request head that arrives a byte at a time, or one that never ends (httptools
keeps every header line it is given), is held forever. The protocol here adds, per request head:

* `header_timeout_s` from its first byte (or from the connection's opening) to the end of its
  headers: past it, a 408 in the API's error shape and the connection closed (an idle new
  connection is simply closed);
* `max_header_bytes` of request line and headers: past it, a 431 in the same shape, and closed.

The body's own deadline and size are the app's (`optiloop.api.middleware.RequestGuard`), so they
hold under any server, Lambda included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from optiloop.api.errors import error_body
from optiloop.config import Settings

log = logging.getLogger("optiloop.api")

REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def refusal_bytes(status: int, code: str, message: str, field: str, reason: str) -> bytes:
    """A complete HTTP/1.1 response in the API's error shape that closes the connection."""
    rid = "req_" + uuid.uuid4().hex[:16]
    body = json.dumps(error_body(code, message, [{"field": field, "reason": reason}], rid)).encode()
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\nx-request-id: %s\r\n\r\n"
    ) % (status, REASONS[status], len(body), rid.encode())
    return head + body


def guarded_protocol(header_timeout_s: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a deadline and a size limit on each request head."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _in_head = True
        _head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._arm()
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > max_header_bytes:
                self._refuse(
                    431,
                    "request_headers_too_large",
                    f"the request line and headers exceed the limit of {max_header_bytes} bytes",
                    "headers",
                    f"at most {max_header_bytes} bytes (OPTILOOP_MAX_HEADER_BYTES)",
                )

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head, self._head_bytes = True, 0  # the next request's head; timed from its first byte

        def _arm(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(header_timeout_s, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self._in_head or self.transport.is_closing():
                return
            if not self._head_bytes:
                self.transport.close()  # a connection that never sent a request
                return
            self._refuse(
                408,
                "request_timeout",
                f"the request headers did not arrive within {header_timeout_s:g} s",
                "headers",
                f"send the request line and headers within {header_timeout_s:g} s "
                "(OPTILOOP_HEADER_TIMEOUT_S)",
            )

        def _refuse(self, status: int, code: str, message: str, field: str, reason: str) -> None:
            self._disarm()
            if self.transport.is_closing():
                return
            log.info("refused a request head: %s", message)
            if self.cycle is None or self.cycle.response_complete:  # never interleave with a response
                self.transport.write(refusal_bytes(status, code, message, field, reason))
            self.transport.close()

    return GuardedHttpToolsProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn settings that carry OptiLoop's connection limits."""
    try:
        protocol: Any = guarded_protocol(settings.header_timeout_s, settings.max_header_bytes)
    except ImportError:  # no httptools: h11 bounds the head's size, not its time
        log.warning("httptools is not installed: request heads are limited in size but not in time")
        protocol = "h11"
    return {
        "http": protocol,
        "timeout_keep_alive": settings.keepalive_timeout_s,
        # h11, if used, refuses a head past this with its own plain 400
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def serve(app: Any, settings: Settings, host: str, port: int, log_level: str) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, **uvicorn_options(settings))
