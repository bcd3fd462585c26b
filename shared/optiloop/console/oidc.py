"""Console sign-in with the configured OpenID provider: authorization code + PKCE (RFC 7636).

The server is the OAuth client (a "backend for frontend"): the browser is sent to the issuer's
authorization endpoint with a fresh `state`, `nonce` and the S256 challenge of a code verifier that
never leaves the server; the issuer sends the browser back to `/console/oidc/callback` with a code,
which the server redeems at the token endpoint with the verifier. The ID token that comes back is
checked by the same `OidcVerifier` the API uses for bearer ID tokens (signature with the issuer's
JWKS, `iss`, `aud`, `exp`), plus the `nonce` of this sign-in; then a console session is opened
(`optiloop.auth.sessions`), capped at the ID token's `exp`.

Each pending sign-in is a document (`oidc_login`, by the SHA-256 of its state) that expires in ten
minutes and is deleted on first use, so a code or a state cannot be replayed, and the state is also
bound to the browser that started it (a short-lived HttpOnly cookie), so nobody can make a victim's
browser finish a sign-in the attacker started. Public client: no client secret is needed (PKCE is
the proof); the client id is `OPTILOOP_OIDC_AUDIENCE`, as the ID tokens' `aud` is.

The issuer is reached through the small `Http` port, HTTPS only, with the OIDC timeout; tests plug
an in-process issuer into it (no network).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from optiloop.auth import jose
from optiloop.auth.oidc import MAX_DOC_BYTES, OidcVerifier
from optiloop.auth.principal import Principal
from optiloop.auth.settings import AuthSettings
from optiloop.deps import Deps
from optiloop.errors import Unauthorized
from optiloop.store.records import Doc

KIND = "oidc_login"
PENDING_S = 600  # a sign-in must come back within ten minutes
STATE_COOKIE = "optiloop_oidc_state"
SCOPE = "openid email profile"


class Http(Protocol):
    def get_json(self, url: str, timeout: float) -> dict[str, Any]: ...

    def post_form(self, url: str, form: Mapping[str, str], timeout: float) -> dict[str, Any]: ...


class UrllibHttp:
    """HTTPS only: the issuer's answers decide who gets in."""

    @staticmethod
    def _check(url: str) -> None:
        if not url.startswith("https://"):
            raise ValueError(f"refusing to call {url!r}: not https")

    def get_json(self, url: str, timeout: float) -> dict[str, Any]:
        self._check(url)
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return dict(json.loads(resp.read(MAX_DOC_BYTES)))

    def post_form(self, url: str, form: Mapping[str, str], timeout: float) -> dict[str, Any]:
        self._check(url)
        data = urllib.parse.urlencode(dict(form)).encode()
        req = urllib.request.Request(url, data=data, headers={"Accept": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return dict(json.loads(resp.read(MAX_DOC_BYTES)))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def challenge_of(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return jose.b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class OidcLogin:
    def __init__(
        self,
        auth: AuthSettings,
        verifier: OidcVerifier,
        http: Http | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        assert auth.oidc_issuer and auth.oidc_audience
        self.auth = auth
        self.verifier = verifier
        self.http: Http = http or UrllibHttp()
        self.clock = clock
        self._discovery: dict[str, Any] | None = None

    def _endpoints(self) -> dict[str, Any]:
        if self._discovery is None:
            issuer = str(self.auth.oidc_issuer).rstrip("/")
            try:
                doc = self.http.get_json(
                    f"{issuer}/.well-known/openid-configuration", self.auth.oidc_timeout_s
                )
            except Exception as exc:  # network, JSON: sign-in is unavailable, the API is not
                raise Unauthorized(f"cannot reach the identity provider ({type(exc).__name__})") from None
            if doc.get("issuer") != self.auth.oidc_issuer or not all(
                isinstance(doc.get(k), str) for k in ("authorization_endpoint", "token_endpoint")
            ):
                raise Unauthorized("the identity provider's discovery document does not fit its issuer")
            self._discovery = doc
        return self._discovery

    def start(self, deps: Deps, redirect_uri: str) -> tuple[str, str]:
        """The issuer URL to send the browser to, and the state to bind to that browser."""
        endpoints = self._endpoints()
        state, nonce, code_verifier = (secrets.token_urlsafe(32) for _ in range(3))
        deps.store.docs.create(
            Doc(
                kind=KIND,
                id=_digest(state),
                scope="pending",
                sort=f"{self.clock():017.6f}",
                data={"verifier": code_verifier, "nonce": nonce, "redirect_uri": redirect_uri},
                expires_at=self.clock() + PENDING_S,
            )
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": str(self.auth.oidc_audience),
                "redirect_uri": redirect_uri,
                "scope": SCOPE,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge_of(code_verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoints['authorization_endpoint']}?{query}", state

    def finish(
        self, deps: Deps, *, code: str, state: str, browser_state: str | None
    ) -> tuple[Principal, float]:
        """Redeem the code; the principal of the verified ID token and the token's `exp`."""
        if not browser_state or not secrets.compare_digest(browser_state.encode(), state.encode()):
            raise Unauthorized("this sign-in was not started in this browser: start again")
        pending = deps.store.docs.get(KIND, _digest(state))
        if pending is None:
            raise Unauthorized("unknown or expired sign-in: start again")
        deps.store.docs.delete(KIND, pending.id)  # one use, whatever comes next
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.data["redirect_uri"],
            "client_id": str(self.auth.oidc_audience),
            "code_verifier": pending.data["verifier"],
        }
        try:
            answer = self.http.post_form(self._endpoints()["token_endpoint"], form, self.auth.oidc_timeout_s)
        except Exception as exc:
            raise Unauthorized(f"the identity provider refused the code ({type(exc).__name__})") from None
        raw = answer.get("id_token")
        if not isinstance(raw, str) or not jose.looks_like_jwt(raw):
            raise Unauthorized("the identity provider answered no ID token")
        jws = jose.parse(raw)
        who = self.verifier.verify(jws, now=self.clock())
        nonce = jws.claims.get("nonce")
        if not isinstance(nonce, str) or not secrets.compare_digest(
            nonce.encode(), pending.data["nonce"].encode()
        ):
            raise Unauthorized("invalid ID token: not issued for this sign-in (nonce)")
        return who, float(jws.claims["exp"])
