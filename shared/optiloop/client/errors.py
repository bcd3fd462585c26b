"""What the SDK raises: the API's error body as an exception, so callers branch on types and fields.

The API answers every error as `{"error": {"code", "message", "details": [{"field", "reason",
"hint"}], "request_id"}}` (`optiloop.api.errors`). One exception class per status a caller acts on
differently; each keeps the whole error, so `except InvalidInputError as e: e.fields` tells a form
which inputs to highlight, and `e.request_id` is what to quote when reporting a server problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


class OptiLoopClientError(Exception):
    """Base of everything the SDK raises (so one `except` covers the SDK and nothing else)."""


class APIConnectionError(OptiLoopClientError):
    """No HTTP answer: the server was unreachable, or the connection failed, through every retry."""

    def __init__(self, method: str, url: str, cause: BaseException) -> None:
        super().__init__(f"{method} {url}: {type(cause).__name__}: {cause}")
        self.method = method
        self.url = url
        self.cause = cause


@dataclass(frozen=True)
class Problem:
    """One item of the API's `error.details`: which input and why (and, often, what to do)."""

    field: str
    reason: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" + (f" ({self.hint})" if self.hint else "")


class APIError(OptiLoopClientError):
    """The server answered with an error status; carries its code, message, details and request id."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Problem] | None = None,
        request_id: str | None = None,
        *,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: list[Problem] = list(details or [])
        self.request_id = request_id
        self.method = method
        self.path = path
        self.retry_after = retry_after
        text = f"{method} {path} -> {status} {code}: {message}".strip()
        if self.details:
            text += " [" + "; ".join(str(d) for d in self.details) + "]"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)

    @property
    def fields(self) -> list[str]:
        """The inputs the server named, in its order (e.g. ``["body.json_schema.params.x.min"]``)."""
        return [d.field for d in self.details]

    def reason_for(self, field: str) -> str | None:
        """The reason given for one field, or None when the server did not name it."""
        return next((d.reason for d in self.details if d.field == field), None)


class BadRequestError(APIError):
    """400: the request could not be read (malformed JSON, a body the route does not take)."""


class AuthenticationError(APIError):
    """401: no key, or a key that does not exist or was revoked."""


class PermissionDeniedError(APIError):
    """403: the key's role or project does not allow this (or a four-eyes rule refused it)."""


class NotFoundError(APIError):
    """404: no such resource (or route)."""


class ConflictError(APIError):
    """409: the state forbids it (a spent budget, a duplicate name); with `retry_after` set, the
    server only lost a race with concurrent writers and the same request will succeed later."""


class PayloadTooLargeError(APIError):
    """413: the body is over the server's limit (OPTILOOP_MAX_BODY_BYTES); send less per request."""


class InvalidInputError(APIError):
    """422: an input failed validation; `details` name each field and the reason."""


class RateLimitError(APIError):
    """429: too many requests (or refused requests) from this principal; `retry_after` says when."""


class ServerError(APIError):
    """5xx: the server (or an upstream it called) failed; quote `request_id` when reporting it."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidInputError,
    429: RateLimitError,
}


def error_class(status: int) -> type[APIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def problems(raw: Any) -> list[Problem]:
    """`error.details` read defensively: a proxy in front of the API may answer with anything."""
    if not isinstance(raw, list):
        return []
    out: list[Problem] = []
    for d in raw:
        if isinstance(d, Mapping):
            hint = d.get("hint")
            out.append(
                Problem(
                    field=str(d.get("field", "")),
                    reason=str(d.get("reason", "")),
                    hint=str(hint) if hint is not None else None,
                )
            )
    return out


def error_from_body(
    status: int,
    err: Any,
    *,
    method: str = "",
    path: str = "",
    fallback_message: str = "",
    retry_after: float | None = None,
) -> APIError:
    """The exception for one `error` object (from a response body, or a line of an NDJSON stream)."""
    if not isinstance(err, Mapping):
        err = {}
    rid = err.get("request_id")
    return error_class(status)(
        status,
        str(err.get("code") or "error"),
        str(err.get("message") or fallback_message or f"HTTP {status}"),
        problems(err.get("details")),
        str(rid) if rid else None,
        method=method,
        path=path,
        retry_after=retry_after,
    )


def error_from_response(response: httpx.Response, retry_after: float | None = None) -> APIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(err, str) and isinstance(body, Mapping):  # the token endpoint's OAuth2 shape (RFC 6749 5.2)
        description = body.get("error_description")
        err = {"code": err, "message": description if isinstance(description, str) else err}
        err["request_id"] = body.get("request_id") or response.headers.get("x-request-id")
    if not isinstance(err, Mapping):
        err = {"request_id": response.headers.get("x-request-id")}
    elif not err.get("request_id") and response.headers.get("x-request-id"):
        err = {**err, "request_id": response.headers["x-request-id"]}
    return error_from_body(
        response.status_code,
        err,
        method=response.request.method,
        path=response.request.url.path,
        fallback_message=response.text[:200] or response.reason_phrase,
        retry_after=retry_after,
    )
