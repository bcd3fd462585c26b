"""The console's sign-in routes: an API key exchanged for a session, or an OIDC sign-in.

    POST   /console/session            {"api_key": "olk_..."} -> session cookie + {"csrf_token", ...}
    GET    /console/session            who is signed in, and the session's CSRF token (after a reload)
    DELETE /console/session            sign out (needs X-CSRF-Token, as every write with a session)
    GET    /console/config             {"oidc": true|false}: whether to offer the OIDC sign-in
    GET    /console/oidc/login         -> 302 to the issuer (authorization code + PKCE)
    GET    /console/oidc/callback      <- the issuer's redirect: redeem, verify, session, -> 302 to /

They belong to the console, not to the API (kept out of the OpenAPI document and the Lambdas): on
AWS the console signs people in with the tenant's Cognito user pool and sends the ID token as a
bearer. What a session may do is exactly what its principal may do through the API
(`optiloop.auth.sessions` resolves the cookie inside `current_principal`).

Failed OIDC sign-ins are audited (`session.refused`, principal `console-signin`, the reason), within
the refusal budget of that one name so a loop of bad callbacks cannot grow the log without bound.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import Field

from optiloop.api.errors import request_id_of
from optiloop.api.models.common import RequestModel
from optiloop.api.security import get_deps
from optiloop.auth import jose, sessions
from optiloop.auth.principal import MAX_KEY_CHARS, Principal, authenticate
from optiloop.console.oidc import PENDING_S, STATE_COOKIE, OidcLogin
from optiloop.errors import Forbidden, NotFound, OptiLoopError, Unauthorized

log = logging.getLogger("optiloop.console")
SIGNIN_PRINCIPAL = "console-signin"


class KeyExchange(RequestModel):
    api_key: Annotated[
        str, Field(min_length=1, max_length=MAX_KEY_CHARS, description="The API key to sign in with.")
    ]


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip() == "https"


def _session_answer(
    request: Request, who: Principal, opened: sessions.Opened, status: int = 200
) -> JSONResponse:
    body = {
        "principal": who.name,
        "role": who.role,
        "project_id": who.project_id,
        "csrf_token": opened.csrf,
        "expires_at": opened.expires_at,
    }
    resp = JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    _set_session_cookie(request, resp, opened)
    return resp


def _set_session_cookie(request: Request, resp: Response, opened: sessions.Opened) -> None:
    max_age = max(1, int(opened.expires_at - time.time()))
    resp.set_cookie(
        sessions.COOKIE,
        opened.token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def _same_origin(request: Request) -> None:
    """A sign-in posted from another site's page (login CSRF: signing the victim in as the attacker)
    carries that site's Origin; browsers send Origin on every cross-site POST."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise Forbidden(
            "sign-in is only accepted from this console's own pages",
            details=[{"field": "origin", "reason": f"{origin[:100]} is another origin"}],
        )


def mount_session(app: FastAPI) -> None:
    @app.post("/console/session", include_in_schema=False)
    def open_with_key(body: KeyExchange, request: Request) -> JSONResponse:
        _same_origin(request)
        if jose.looks_like_jwt(body.api_key):  # a session lives as long as its key: tokens expire
            raise Unauthorized("sign in with an API key here; people with an IdP use /console/oidc/login")
        deps = get_deps(request)
        who = authenticate(deps.store, body.api_key)
        return _session_answer(request, who, sessions.open_session(deps, who, via="api_key"), 201)

    @app.get("/console/config", include_in_schema=False)
    def console_config(request: Request) -> JSONResponse:
        """What the sign-in page offers: the OIDC button only where an issuer is configured."""
        return JSONResponse({"oidc": request.app.state.credentials.oidc is not None})

    @app.get("/console/session", include_in_schema=False)
    def current(request: Request) -> JSONResponse:
        token = request.cookies.get(sessions.COOKIE)
        if not token:
            raise Unauthorized("no console session: sign in")
        deps = get_deps(request)
        who = sessions.resolve(deps, token, method="GET", csrf=None)
        csrf = sessions.csrf_of(deps, token)
        body = {"principal": who.name, "role": who.role, "project_id": who.project_id, "csrf_token": csrf}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.delete("/console/session", include_in_schema=False)
    def sign_out(request: Request) -> Response:
        token = request.cookies.get(sessions.COOKIE)
        if not token:
            raise Unauthorized("no console session: sign in")
        deps = get_deps(request)
        sessions.resolve(deps, token, method="DELETE", csrf=request.headers.get(sessions.CSRF_HEADER))
        sessions.close_session(deps, token)
        resp = Response(status_code=204)
        resp.delete_cookie(
            sessions.COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request)
        )
        return resp

    @app.get("/console/oidc/login", include_in_schema=False)
    async def oidc_login(request: Request) -> RedirectResponse:
        login = _oidc(request)
        redirect_uri = str(request.url_for("oidc_callback"))
        url, state = await run_in_threadpool(login.start, get_deps(request), redirect_uri)
        resp = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
        # Lax, not Strict: the issuer's redirect back is a top-level cross-site navigation
        resp.set_cookie(
            STATE_COOKIE,
            state,
            max_age=PENDING_S,
            path="/console/oidc",
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )
        return resp

    @app.get("/console/oidc/callback", name="oidc_callback", include_in_schema=False)
    async def oidc_callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=2048)] = None,
        state: Annotated[str | None, Query(max_length=200)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        login = _oidc(request)
        deps = get_deps(request)
        try:
            if error:
                raise Unauthorized(f"the identity provider refused the sign-in: {error}")
            if not code or not state:
                raise Unauthorized("the identity provider's answer has no code or state")
            who, exp = await run_in_threadpool(
                login.finish, deps, code=code, state=state, browser_state=request.cookies.get(STATE_COOKIE)
            )
        except OptiLoopError as exc:
            await run_in_threadpool(_audit_failed_signin, request, exc.message)
            raise
        opened = await run_in_threadpool(sessions.open_session, deps, who, via="oidc", not_after=exp)
        resp = RedirectResponse("/#/projects", status_code=302, headers={"Cache-Control": "no-store"})
        _set_session_cookie(request, resp, opened)
        resp.delete_cookie(STATE_COOKIE, path="/console/oidc")
        return resp


def _oidc(request: Request) -> OidcLogin:
    login: OidcLogin | None = getattr(request.app.state, "oidc_login", None)
    if login is None:
        credentials = request.app.state.credentials
        if credentials.oidc is None:
            raise NotFound(
                "no OpenID provider is configured (OPTILOOP_OIDC_ISSUER): sign in with an API key",
                details=[{"field": "OPTILOOP_OIDC_ISSUER", "reason": "not set"}],
            )
        login = OidcLogin(credentials.auth, credentials.oidc)
        request.app.state.oidc_login = login
    return login


def _audit_failed_signin(request: Request, reason: str) -> None:
    limits = getattr(request.app.state, "limits", None)
    verdict = limits.refusal(SIGNIN_PRINCIPAL) if limits is not None else None
    if verdict is not None and not verdict.allowed:
        return
    details: dict[str, Any] = {"reason": reason[:300], "via": "oidc", "request_id": request_id_of(request)}
    try:
        get_deps(request).store.audit.append(
            principal=SIGNIN_PRINCIPAL,
            action="session.refused",
            project_id=None,
            target=None,
            details=details,
        )
    except Exception:  # an audit failure must not turn a 401 into a 500
        log.exception("could not audit a failed sign-in")
