"""FastAPI dependencies: the Deps of the app and the Principal behind the request.

The principal's request budget (`optiloop.api.ratelimit`) is spent here, once per request, before
any handler runs: past it, a 429 with Retry-After.

Authorisation is declared on each route (`Depends(require(Action.X))`) against the one table in
`optiloop.auth.roles`; the project a route concerns is read from its `{project_id}` path parameter,
so a project-scoped key is stopped before any handler code runs.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from optiloop.api.errors import too_many_requests
from optiloop.auth import sessions
from optiloop.auth.principal import Principal, authenticate
from optiloop.auth.refusals import audit_refused
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import Unauthorized

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
        # a refused JWT or revoked key is audited within its refusal budget (optiloop.auth.refusals)
        limits = getattr(request.app.state, "limits", None)
        audit_refused(store, limits, raw, exc.message, request.url.path, where="api")
        raise
    return _admit(request, principal)


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
