"""Domain errors -> HTTP, in one place, so every route (and every Lambda) answers alike.

Body: {"error": {"code", "message", "details": [{"field", "reason", "hint"?}], "request_id"}}.
An unexpected exception is logged with its stack trace and answered with a bare 500 that carries
only the request id: the trace may hold paths, data or secrets that a client must not see.

A refused request of a known principal (403, 409, 422) is an audit record, within the principal's
refusal budget (`optiloop.api.ratelimit`); past it the answer is a 429 with Retry-After instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from optiloop.api.literal_paths import specificity
from optiloop.errors import (
    Conflict,
    Contended,
    Forbidden,
    InvalidInput,
    NotFound,
    NotImplementedYet,
    OptiLoopError,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UpstreamFailed,
    UpstreamTimeout,
)

MAX_DETAILS = 50  # field problems listed in one 422 (the message counts them all)
log = logging.getLogger("optiloop.api")
_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})

STATUS: list[tuple[type[OptiLoopError], int]] = [
    (InvalidInput, 422),  # includes Unsatisfiable
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (PayloadTooLarge, 413),
    (TooManyRequests, 429),
    (NotImplementedYet, 501),
    (UpstreamTimeout, 504),  # before its base class
    (UpstreamFailed, 502),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    431: "request_headers_too_large",
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_body(
    code: str, message: str, details: Sequence[dict[str, Any]] = (), request_id: str | None = None
) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "details": list(details)}
    if request_id:
        err["request_id"] = request_id
    return {"error": err}


def status_of(exc: OptiLoopError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _json(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _loc_to_field(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def validation_details(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors as our FieldProblems; the input value is never echoed (it may be huge)."""
    details: list[dict[str, Any]] = []
    for e in errors:
        reason = str(e.get("msg", "invalid"))
        reason = reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        item: dict[str, Any] = {"field": _loc_to_field(e.get("loc", ())), "reason": reason}
        if e.get("type") == "extra_forbidden":
            item["reason"] = "unknown field"
            item["hint"] = "remove it or check its spelling against the API docs at /docs"
        details.append(item)
    return details


AUDITED_REFUSALS = frozenset({403, 409, 422})


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def too_many_requests(message: str, retry_after_s: float, reason: str) -> TooManyRequests:
    wait = max(1, math.ceil(retry_after_s))
    return TooManyRequests(
        message,
        retry_after_s=retry_after_s,
        details=[{"field": "principal", "reason": reason, "hint": f"retry after {wait} s"}],
    )


async def _audit(request: Request, action: str, details: dict[str, Any]) -> None:
    """Append one record for the request's principal; a failure to record is logged, never turned
    into a 500: the refusal itself already happened."""
    principal = request.state.principal
    deps = request.app.state.deps

    def write() -> None:
        deps.store.audit.append(
            principal=principal.name,
            action=action,
            project_id=request.path_params.get("project_id") or principal.project_id,
            target=f"{request.method} {request.url.path}",
            details={**details, "key_id": principal.key_id, "request_id": request_id_of(request)},
        )

    try:
        await run_in_threadpool(write)
    except Exception:
        log.exception("could not audit a refused request (request_id=%s)", request_id_of(request))


async def _refusal(
    request: Request, status: int, code: str, message: str, details: Sequence[Any]
) -> TooManyRequests | None:
    """Record a refused request of a known principal (a viewer trying to write, a self-approval, a
    template injection attempt...): refusals are part of the audit trail. Unauthenticated requests
    are not recorded (nobody to attribute them to, and they would let anyone flood the log). Past
    the principal's refusal budget nothing is recorded but the start of the episode, and the answer
    becomes the returned 429."""
    principal = getattr(request.state, "principal", None)
    if principal is None or status not in AUDITED_REFUSALS:
        return None
    limits = getattr(request.app.state, "limits", None)
    verdict = limits.refusal(principal.name) if limits is not None else None
    if verdict is not None and not verdict.allowed:
        assert limits is not None  # a verdict comes from the limits
        per_minute = limits.refusals_per_minute
        if verdict.first_refused:
            await _audit(
                request,
                "request.throttled",
                {"status": status, "code": code, "refusals_per_minute": per_minute},
            )
        return too_many_requests(
            f"more than {per_minute} refused requests a minute from '{principal.name}': this one would "
            f"have been a {status} {code} ({message[:200]}); past the limit refusals are not recorded",
            verdict.retry_after_s,
            f"at most {per_minute} refused requests a minute per principal (OPTILOOP_REFUSALS_PER_MINUTE)",
        )
    await _audit(
        request,
        "request.refused",
        {
            "status": status,
            "code": code,
            "message": message[:500],
            "fields": [d.get("field") for d in details if isinstance(d, dict)][:20],
        },
    )
    return None


def _error_response(request: Request, exc: OptiLoopError) -> JSONResponse:
    status = status_of(exc)
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, (TooManyRequests, Contended)):  # Contended: one project's writers; retry shortly
        headers = retry_after_header(exc.retry_after_s)
    return _json(
        request, status, error_body(exc.code, exc.message, exc.details, request_id_of(request)), headers
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OptiLoopError)
    throttled = await _refusal(request, status_of(exc), exc.code, exc.message, exc.details)
    return _error_response(request, throttled or exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        e = next(e for e in errors if e.get("type") == "json_invalid")
        pos = e.get("loc", ("body", None))[-1]
        why = (e.get("ctx") or {}).get("error", "invalid JSON")
        return _json(
            request,
            400,
            error_body(
                "malformed_json",
                f"the body is not valid JSON: {why}",
                [{"field": "body", "reason": f"{why} at position {pos}"}],
                request_id_of(request),
            ),
        )
    details = validation_details(errors)
    msg = "; ".join(f"{d['field']}: {d['reason']}" for d in details[:5])
    if len(details) > 5:
        msg += f"; and {len(details) - 5} more"
    # the first MAX_DETAILS problems name the pattern; a 1,000-run batch with one mistake repeated
    # would otherwise answer (and audit) a thousand copies of it
    details = details[:MAX_DETAILS]
    throttled = await _refusal(request, 422, "invalid_input", msg, details)
    if throttled is not None:
        return _error_response(request, throttled)
    return _json(request, 422, error_body("invalid_input", msg, details, request_id_of(request)))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        return _json(
            request,
            400,
            error_body(
                "malformed_json",
                "the body could not be parsed as JSON",
                [
                    {
                        "field": "body",
                        "reason": "unparseable JSON (e.g. a number too large or nesting too deep)",
                    }
                ],
                request_id_of(request),
            ),
        )
    details = (
        [{"field": "path", "reason": f"no route {request.method} {request.url.path}"}]
        if exc.status_code in (404, 405)
        else []
    )
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        # Starlette names the methods of the first route whose path matched; FastAPI makes one route
        # per method, so `OPTIONS /v1/projects` said `Allow: POST` although GET is served there too
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        headers["Allow"] = ", ".join(allowed_methods(request))
    return _json(
        request,
        exc.status_code,
        error_body(code, detail, details, request_id_of(request)),
        headers or None,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method served at this request's path (RFC 9110: the `Allow` of a 405): plain Starlette
    routes, and the operations of the OpenAPI document (FastAPI >= 0.160 nests included routers, whose
    routes are not in `app.routes`)."""
    path = request.scope.get("path", request.url.path)
    served: dict[str, set[str]] = {}  # template -> its methods, of the templates matching the path
    for route in request.app.routes:
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            served.setdefault(route.path, set()).update(route_methods)
    paths = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        if compile_path(template)[0].match(path):
            served.setdefault(template, set()).update(
                m.upper() for m in operations if m.upper() in _HTTP_METHODS
            )
    # a literal path is its literal route's alone (optiloop.api.literal_paths): /v1/evals/run is not
    # the eval run "run", so GET (of /v1/evals/{eval_run_id}) is not allowed there
    top = max((specificity(t) for t in served), default=0)
    methods = {m for t, ms in served.items() if specificity(t) == top for m in ms}
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return sorted(methods)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    rid = request_id_of(request)
    log.exception("unhandled error in %s %s (request_id=%s)", request.method, request.url.path, rid)
    return _json(
        request,
        500,
        error_body(
            "internal_error", "an unexpected error occurred; quote the request_id when reporting it", [], rid
        ),
        # this handler runs outside the request guard (in Starlette's outermost middleware), so it sets
        # the header the guard would have added
        {"x-request-id": rid} if rid else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OptiLoopError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
