"""`POST /v1/auth/token` (OAuth2 client credentials) and `GET /.well-known/jwks.json`. Both public.

The token endpoint speaks OAuth2, not the platform's dialect: its body is form-encoded (RFC 6749
4.4.2; JSON is accepted too), the client authenticates with HTTP Basic or in the body (2.3.1), and its
errors are RFC 6749 5.2's `{"error": "<code>", "error_description"}` so any OAuth2 client library
understands them. That `error` is a string here and an object (`{"error": {"code", ...}}`) everywhere
else, which is how a client tells the two apart; a 422 or 5xx of the platform itself keeps the
platform's shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from optiloop.api.errors import request_id_of
from optiloop.api.models.auth import TOKEN_REQUEST_SCHEMA, OAuthErrorBody, TokenResponse
from optiloop.api.models.responses_jwks import JwksOut
from optiloop.auth.credentials import Credentials
from optiloop.auth.tokens import Grant, OAuthError

router = APIRouter(tags=["auth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: tokens are never cached
FORM = "application/x-www-form-urlencoded"
PARAMS = ("grant_type", "client_id", "client_secret", "scope")


def _oauth_error(request: Request, exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:  # RFC 6749 5.2: a failed client authentication names the scheme to use
        headers["WWW-Authenticate"] = 'Basic realm="optiloop", charset="UTF-8"'
    body: dict[str, Any] = {"error": exc.code, "error_description": exc.description}
    if rid := request_id_of(request):
        body["request_id"] = rid
    return JSONResponse(body, status_code=exc.status, headers=headers)


def _params(body: bytes, content_type: str) -> dict[str, str]:
    """The request's parameters; each at most once (RFC 6749 3.2), strings only."""
    if not body.strip():
        return {}
    if content_type == FORM:
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError("invalid_request", "the body is not a valid form") from None
        if any(len(v) > 1 for v in parsed.values()):
            raise OAuthError("invalid_request", "a parameter is repeated")
        return {k: v[0] for k, v in parsed.items() if k in PARAMS}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body is neither a form nor JSON") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k, ""), str) for k in PARAMS):
        raise OAuthError("invalid_request", "parameters must be strings")
    return {k: data[k] for k in PARAMS if k in data}


def _basic(header: str | None) -> tuple[str, str] | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401) from None
    if not sep:
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401)
    return unquote_plus(user), unquote_plus(password)  # RFC 6749 2.3.1: both form-encoded first


def grant_of(params: dict[str, str], authorization: str | None) -> Grant:
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
    basic = _basic(authorization)
    in_body = "client_id" in params or "client_secret" in params
    if basic and in_body:
        raise OAuthError("invalid_request", "send the client credentials once: HTTP Basic or the body")
    client_id, secret = basic or (params.get("client_id", ""), params.get("client_secret", ""))
    if not client_id or not secret:
        raise OAuthError("invalid_client", "client_id and client_secret are required", 401)
    return Grant(client_id=client_id, client_secret=secret, scope=params.get("scope") or None)


@router.post(
    "/v1/auth/token",
    response_model=TokenResponse,
    summary="Exchange an API key for a short-lived access token (OAuth2 client credentials)",
    description=(
        "RFC 6749 4.4: `grant_type=client_credentials` with the API key's id as `client_id` and the "
        "key as `client_secret`, in the form-encoded (or JSON) body or as HTTP Basic. The answer is a "
        "signed JWT valid for `expires_in` seconds; send it as `Authorization: Bearer <token>`. A "
        "token of a revoked key is refused on its next use. Errors use OAuth2's shape "
        '(`{"error": "invalid_client"}`), not the platform\'s.'
    ),
    responses={
        400: {
            "model": OAuthErrorBody,
            "description": "invalid_request, unsupported_grant_type, invalid_scope",
        },
        401: {
            "model": OAuthErrorBody,
            "description": "invalid_client: unknown id, wrong secret, revoked key",
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {"schema": TOKEN_REQUEST_SCHEMA},
                "application/json": {"schema": TOKEN_REQUEST_SCHEMA},
            },
        }
    },
)
async def token(request: Request) -> JSONResponse:
    credentials: Credentials = request.app.state.credentials
    ctype = request.headers.get("content-type", FORM).split(";")[0].strip().lower()
    try:
        grant = grant_of(_params(await request.body(), ctype), request.headers.get("authorization"))
        answer = await run_in_threadpool(credentials.issue, request.app.state.deps.store, grant)
    except OAuthError as exc:
        return _oauth_error(request, exc)
    return JSONResponse(answer, headers=NO_STORE)


@router.get(
    "/.well-known/jwks.json",
    response_model=JwksOut,
    summary="The public keys that verify OptiLoop access tokens",
    description=(
        "A JWK Set (RFC 7517). Empty where tokens are signed with a shared secret (HS256): a secret "
        "has no public half. With ES256/EdDSA signing keys (OPTILOOP_TOKEN_KEYS_FILE) every key still "
        "valid for verification is listed, by `kid`, so rotation needs no coordination."
    ),
)
def jwks(request: Request) -> JSONResponse:
    credentials: Credentials = request.app.state.credentials
    body = credentials.ring.jwks() if credentials.ring is not None else {"keys": []}
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})
