"""FastAPI dependencies: the Deps of the app and the Principal behind the request.

The principal's request budget (`optiloop.api.ratelimit`) is spent here, once per request, before
any handler runs: past it, a 429 with Retry-After.

Authorisation is declared on each route (`Depends(require(Action.X))`) against the one table in
`optiloop.auth.roles`; the project a route concerns is read from its `{project_id}` path parameter,
so a project-scoped key is stopped before any handler code runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from optiloop.api.errors import too_many_requests
from optiloop.auth import jose, sessions
from optiloop.auth.principal import Principal, authenticate
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Unauthorized

log = logging.getLogger("optiloop.api")

_bearer = HTTPBearer(
    auto_error=False,
    description="Authorization: Bearer olk_... (an API key), or an access token from POST /v1/auth/token, "
    "or an ID token of the configured OpenID Connect issuer",
)
_api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="x-api-key: olk_...")


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def current_principal(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
    api_key: str | None = Security(_api_key),
) -> Principal:
    raw = bearer.credentials if bearer is not None else api_key
    session = request.cookies.get(sessions.COOKIE) if raw is None else None
    if session:
        # the console's sign-in (optiloop.auth.sessions): a cookie, with a CSRF token on writes; a
        # credential in a header always wins, so API clients never depend on cookies
        principal = sessions.resolve(
            get_deps(request), session, method=request.method, csrf=request.headers.get(sessions.CSRF_HEADER)
        )
        return _admit(request, principal)
    # API keys, access tokens and OIDC ID tokens alike (optiloop.auth.credentials); apps built
    # without create_app (none today) fall back to API keys only
    credentials = getattr(request.app.state, "credentials", None)
    store = get_deps(request).store
    try:
        principal = credentials.authenticate(store, raw) if credentials else authenticate(store, raw)
    except Unauthorized as exc:
        if raw and jose.looks_like_jwt(raw):
            _audit_refused_token(request, raw, exc.message)
        raise
    return _admit(request, principal)


REFUSED_TOKENS = "unauthenticated"
"""The name refused bearer tokens are audited under: a forged token's claims name nobody for sure."""


def _audit_refused_token(request: Request, raw: str, reason: str) -> None:
    """A refused JWT (forged, expired, another tenant's or issuer's) is an `auth.refused` record. Its
    claims are unverified, so they are recorded as what the token claimed (`claimed_sub`, `iss`,
    `kid`), never as the principal; and within the refusal budget of one shared name, so a flood
    of junk tokens cannot grow the log without bound (past it, only the 401)."""
    limits = getattr(request.app.state, "limits", None)
    if limits is not None and not limits.refusal(REFUSED_TOKENS).allowed:
        return
    claimed: dict[str, Any] = {}
    try:
        jws = jose.parse(raw)
        claimed = {
            "claimed_sub": str(jws.claims.get("sub"))[:200],
            "iss": str(jws.claims.get("iss"))[:200],
            "kid": str(jws.header.get("kid"))[:100],
            "alg": str(jws.header.get("alg"))[:20],
        }
    except Unauthorized:
        pass  # not even a well-formed JWT: the reason says so
    try:
        get_deps(request).store.audit.append(
            principal=REFUSED_TOKENS,
            action="auth.refused",
            project_id=None,
            target=None,
            details={"reason": reason[:300], "kind": "jwt", "path": request.url.path[:200], **claimed},
        )
    except Exception:  # an audit failure must not turn a 401 into a 500
        log.exception("could not audit a refused token")


def _admit(request: Request, principal: Principal) -> Principal:
    """Spend the principal's request budget (429 past it) and remember who is asking."""
    limits = getattr(request.app.state, "limits", None)
    if limits is not None:
        verdict = limits.request(principal.name)
        if not verdict.allowed:
            raise too_many_requests(
                f"more than {limits.rate_rps:g} requests a second from '{principal.name}'",
                verdict.retry_after_s,
                f"at most {limits.rate_rps:g} requests a second per principal, bursts of "
                f"{limits.burst} (OPTILOOP_RATE_LIMIT_RPS, OPTILOOP_RATE_LIMIT_BURST)",
            )
    request.state.principal = principal
    return principal


def require(action: Action) -> Callable[..., Principal]:
    """A dependency that yields the Principal if it may do `action` on the route's project."""

    def dependency(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        authorize(principal, action, request.path_params.get("project_id"))
        return principal

    dependency.__name__ = f"require_{action.name.lower()}"
    return dependency
