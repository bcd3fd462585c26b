"""OAuth2 client credentials (RFC 6749 4.4): an API key in, a short-lived signed JWT out, and back.

The client id is the key's id, the client secret the key itself; both must match one live key. The
token (RFC 9068's `at+jwt` profile) carries the principal (`sub`), role, project scope and key id
(`client_id`) plus `iat/exp/jti/iss/aud`, and may be narrowed by `scope` to a lower role or one project.

Revocation is honoured at once: every use of a token reads its key by id (the same one strongly
consistent point read an API key costs) and refuses it if the key is revoked. Tokens therefore save
no store read; they exist so services can hold a credential that expires, can be handed to a
subprocess without the key, and can be verified by others against the published JWKS.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optiloop.auth import jose
from optiloop.auth.keys import hash_key
from optiloop.auth.principal import MAX_KEY_CHARS, Principal
from optiloop.auth.roles import ROLE_RANK
from optiloop.auth.settings import AuthSettings
from optiloop.auth.signing import KeyRing
from optiloop.errors import OptiLoopError, Unauthorized
from optiloop.store.ports import Store

TOKEN_TYPE = "at+jwt"  # RFC 9068: tells an access token from an ID token of the same issuer
LEEWAY_S = 30  # clock skew tolerated on exp/nbf/iat between machines
_PROJECT = "project:"


class OAuthError(OptiLoopError):
    """An error the token endpoint answers in RFC 6749 5.2's shape (`{"error": "<code>"}`)."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Grant:
    """What was asked for: the client's credentials and an optional space-separated scope."""

    client_id: str
    client_secret: str
    scope: str | None = None


def _narrow(role: str, project_id: str | None, scope: str | None) -> tuple[str, str | None]:
    """The role and project a token may carry: the key's, or less (`viewer`, `project:<id>`)."""
    if not scope:
        return role, project_id
    for part in scope.split():
        if part in ROLE_RANK:
            if ROLE_RANK[part] > ROLE_RANK[role]:
                raise OAuthError("invalid_scope", f"scope '{part}' is above the key's role '{role}'")
            role = part
        elif part.startswith(_PROJECT) and len(part) > len(_PROJECT):
            wanted = part[len(_PROJECT) :]
            if project_id is not None and wanted != project_id:
                raise OAuthError("invalid_scope", "the key is bound to another project")
            project_id = wanted
        else:
            raise OAuthError("invalid_scope", f"unknown scope '{part[:40]}': use a role or project:<id>")
    return role, project_id


def scope_of(role: str, project_id: str | None) -> str:
    return f"{role} {_PROJECT}{project_id}" if project_id else role


def issue(
    store: Store,
    ring: KeyRing,
    auth: AuthSettings,
    grant: Grant,
    *,
    now: Callable[[], float] = time.time,
    jti: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """The token response; `invalid_client` for any mismatch, without saying which part was wrong."""
    secret = grant.client_secret
    key = store.keys.get_by_hash(hash_key(secret)) if secret and len(secret) <= MAX_KEY_CHARS else None
    if key is None or key.revoked or key.id != grant.client_id:
        raise OAuthError("invalid_client", "unknown client, wrong secret or revoked key", 401)
    role, project_id = _narrow(key.role, key.project_id, grant.scope)
    issued = int(now())
    claims = {
        "iss": auth.token_issuer,
        "aud": auth.token_audience,
        "sub": key.principal,
        "client_id": key.id,
        "role": role,
        "scope": scope_of(role, project_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + auth.token_ttl_s,
        "jti": jti() if jti else secrets.token_urlsafe(16),
    }
    if project_id is not None:
        claims["project_id"] = project_id
    signer = ring.current
    token = jose.encode({"alg": signer.alg, "kid": signer.kid, "typ": TOKEN_TYPE}, claims, signer.sign)
    # one record per token: who holds which credential until when (the token itself is never logged)
    store.audit.append(
        principal=key.principal,
        action="token.issued",
        project_id=project_id,
        target=key.id,
        details={"key_id": key.id, "jti": claims["jti"], "scope": claims["scope"], "exp": claims["exp"]},
    )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": auth.token_ttl_s,
        "scope": claims["scope"],
    }


def check_times(claims: dict[str, Any], now: float, what: str) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise Unauthorized(f"invalid {what}: no expiry")
    if now > exp + LEEWAY_S:
        raise Unauthorized(f"expired {what}")
    nbf = claims.get("nbf", claims.get("iat"))
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and now + LEEWAY_S < nbf:
        raise Unauthorized(f"invalid {what}: not valid yet")


def audience_matches(aud: Any, expected: str) -> bool:
    return aud == expected or (isinstance(aud, list) and expected in aud)


def verify(store: Store, ring: KeyRing, auth: AuthSettings, jws: jose.Jws, *, now: float) -> Principal:
    """The principal of one of our access tokens; every failure a 401 with a short reason."""
    key = ring.find(jws.header.get("kid"))
    if key is None:
        raise Unauthorized("invalid token: unknown signing key")
    if jws.header.get("alg") != key.alg or not key.verify(jws.signing_input, jws.signature):
        raise Unauthorized("invalid token: bad signature")
    claims = jws.claims
    if jws.header.get("typ") != TOKEN_TYPE:
        raise Unauthorized("invalid token: not an access token")
    if claims.get("iss") != auth.token_issuer or not audience_matches(claims.get("aud"), auth.token_audience):
        raise Unauthorized("invalid token: issued for another issuer or audience")
    check_times(claims, now, "token")
    record = store.keys.get(str(claims.get("client_id", "")))
    if record is None or record.revoked:  # revocation takes effect on the token's next use
        raise Unauthorized("invalid or revoked API key")
    role, project_id = claims.get("role"), claims.get("project_id")
    # the claims were signed by us from this key; check anyway that they are within it
    if (
        role not in ROLE_RANK
        or ROLE_RANK[str(role)] > ROLE_RANK[record.role]
        or claims.get("sub") != record.principal
        or (record.project_id is not None and project_id != record.project_id)
    ):
        raise Unauthorized("invalid token: claims outside its key")
    return Principal(name=record.principal, role=str(role), project_id=project_id, key_id=record.id)
