"""Console sessions: a person's sign-in, kept server-side and named by an HttpOnly cookie.

Why not keep the API key in the browser: script on the page (an XSS, a rogue extension) could read
it and use it anywhere, for as long as the key lives. A session cookie is `HttpOnly` (no script reads
it), `SameSite=Strict` (no other site's page sends it) and `Secure` where served over HTTPS, and it
is worth nothing off this origin. A state-changing request (anything but GET/HEAD/OPTIONS) must also
carry the session's CSRF token in `X-CSRF-Token`, which only this origin's pages can read (from
`GET /console/session`): a forged cross-site request has the cookie at most, never the token.
The CSRF token is kept as is (it is worth nothing without the cookie), so a reloaded page can read
it again.

A session is opened by exchanging an API key (`POST /console/session`, one machine) or by an OIDC
sign-in (authorization code + PKCE, `optiloop.console.oidc`). Only a SHA-256 digest of the session
token is stored (a `console_session` document that expires by itself), so a copy of the store opens
no session. A session opened with a key lives only as long as the key: every
use reads the key (one primary-key read, as an access token's use does) and a revoked key ends it,
answered with 401 and an audit record naming the principal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Forbidden, Unauthorized
from optiloop.store.records import Doc

COOKIE = "optiloop_session"
CSRF_HEADER = "x-csrf-token"
KIND = "console_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_TTL_S = 8 * 3600  # a working day; then sign in again
MAX_TOKEN_CHARS = 100


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Opened:
    """What the browser gets: the cookie value (stored only as a digest) and the CSRF token."""

    token: str
    csrf: str
    expires_at: float


def open_session(
    deps: Deps,
    who: Principal,
    *,
    via: str,
    ttl_s: float = DEFAULT_TTL_S,
    not_after: float | None = None,
    clock: Callable[[], float] = time.time,
) -> Opened:
    """A new session for `who`; `via` says how they signed in (`api_key`, `oidc`). `not_after` caps
    the session at the credential's own expiry (an ID token's `exp`). Audited as `session.opened`."""
    now = clock()
    expires_at = now + ttl_s if not_after is None else min(now + ttl_s, not_after)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    doc = Doc(
        kind=KIND,
        id=_digest(token),
        scope=who.name,
        sort=f"{now:017.6f}",
        data={
            "principal": who.name,
            "role": who.role,
            "project_id": who.project_id,
            "key_id": who.key_id,
            "via": via,
            "csrf": csrf,
            "opened_at": deps.clock(),
        },
        expires_at=expires_at,
    )
    with deps.store.transaction():
        deps.store.docs.create(doc)
        deps.store.audit.append(
            principal=who.name,
            action="session.opened",
            project_id=who.project_id,
            target=doc.id[:16],
            details={"via": via, "key_id": who.key_id, "expires_in_s": round(expires_at - now)},
        )
    return Opened(token=token, csrf=csrf, expires_at=expires_at)


def csrf_of(deps: Deps, token: str) -> str | None:
    """The CSRF token of a live session (for `GET /console/session`), None without one."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    doc = deps.store.docs.get(KIND, _digest(token))
    return None if doc is None else str(doc.data["csrf"])


def _principal(doc: Doc) -> Principal:
    d = doc.data
    return Principal(name=d["principal"], role=d["role"], project_id=d["project_id"], key_id=d["key_id"])


def resolve(deps: Deps, token: str, *, method: str, csrf: str | None) -> Principal:
    """The principal of a session cookie, or 401 (unknown, expired, signed out, key revoked) / 403
    (a state-changing request without the session's CSRF token). A refusal of a known session is
    audited here: the principal is known, though the request never reaches a handler."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("no console session: sign in again")
    doc = deps.store.docs.get(KIND, _digest(token))
    if doc is None:
        raise Unauthorized("the console session has expired or was signed out: sign in again")
    who = _principal(doc)
    key_id = doc.data.get("key_id")
    if key_id is not None:
        key = deps.store.keys.get(key_id)
        if key is None or key.revoked:
            with deps.store.transaction():
                deps.store.docs.delete(KIND, doc.id)
                _refused(deps, who, doc, "key revoked", 401)
            raise Unauthorized("the API key this console session was opened with has been revoked")
    sent = (csrf or "").encode()
    csrf_ok = 0 < len(sent) <= MAX_TOKEN_CHARS and hmac.compare_digest(sent, doc.data["csrf"].encode())
    if method.upper() not in SAFE_METHODS and not csrf_ok:
        with deps.store.transaction():
            _refused(deps, who, doc, "missing or wrong CSRF token", 403)
        raise Forbidden(
            "a console session's state-changing request needs its CSRF token",
            details=[
                {
                    "field": CSRF_HEADER,
                    "reason": "missing or not this session's",
                    "hint": "send the csrf_token of GET /console/session as X-CSRF-Token",
                }
            ],
        )
    return who


def _refused(deps: Deps, who: Principal, doc: Doc, reason: str, status: int) -> None:
    deps.store.audit.append(
        principal=who.name,
        action="session.refused",
        project_id=who.project_id,
        target=doc.id[:16],
        details={"reason": reason, "status": status, "via": doc.data.get("via"), "key_id": who.key_id},
    )


def close_session(deps: Deps, token: str) -> bool:
    """Sign out: the session is deleted (its cookie is worth nothing from now). Audited."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    doc = deps.store.docs.get(KIND, _digest(token))
    if doc is None:
        return False
    with deps.store.transaction():
        deps.store.docs.delete(KIND, doc.id)
        deps.store.audit.append(
            principal=doc.data["principal"],
            action="session.closed",
            project_id=doc.data["project_id"],
            target=doc.id[:16],
            details={"via": doc.data.get("via"), "key_id": doc.data.get("key_id")},
        )
    return True
