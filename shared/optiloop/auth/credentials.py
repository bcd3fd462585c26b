"""Every credential the API accepts, behind one call: API keys, OptiLoop access tokens, OIDC ID tokens.

`Credentials.authenticate` is what the FastAPI dependency and the Lambda authorizer both call, so the
two runtimes cannot disagree about who a caller is. Whatever the credential, the result is the same
`Principal`, so roles, project scopes and the four-eyes rule (which compares principal names) apply
alike. A JWT is told from an API key by its shape (`olk_...` vs three dot-separated parts); a JWT is
routed to the OIDC verifier when its (unverified) `iss` is the configured issuer, else to ours — each
verifier then checks the issuer again against its own keys, so the routing grants nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from optiloop.auth import jose, tokens
from optiloop.auth.oidc import OidcVerifier
from optiloop.auth.principal import Principal, authenticate
from optiloop.auth.settings import AuthSettings
from optiloop.auth.signing import KeyRing, keyring_for
from optiloop.errors import Unauthorized
from optiloop.store.ports import Store


class Credentials:
    def __init__(
        self,
        auth: AuthSettings,
        ring: KeyRing | None,
        oidc: OidcVerifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.auth = auth
        self.ring = ring
        self.oidc = oidc
        self.clock = clock

    @classmethod
    def from_settings(
        cls, auth: AuthSettings, *, backend: str, data_dir: Path, endpoint_url: str | None = None
    ) -> Credentials:
        ring = keyring_for(auth, backend=backend, data_dir=data_dir, endpoint_url=endpoint_url)
        oidc = OidcVerifier(auth) if auth.oidc_issuer else None
        return cls(auth, ring, oidc)

    def authenticate(self, store: Store, raw: str | None) -> Principal:
        if not raw or not jose.looks_like_jwt(raw):
            return authenticate(store, raw)
        jws = jose.parse(raw)
        now = self.clock()
        if self.oidc is not None and jws.claims.get("iss") == self.oidc.issuer:
            return self.oidc.verify(jws, now=now)
        if self.ring is None:
            raise Unauthorized("access tokens are not enabled here: no signing key is configured")
        return tokens.verify(store, self.ring, self.auth, jws, now=now)

    def issue(self, store: Store, grant: tokens.Grant) -> dict[str, object]:
        if self.ring is None:
            raise tokens.OAuthError(
                "unsupported_grant_type", "token issue is not configured (OPTILOOP_TOKEN_SECRET)", 400
            )
        return tokens.issue(store, self.ring, self.auth, grant, now=self.clock)
