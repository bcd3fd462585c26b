"""ID tokens of one configured OpenID Connect issuer, accepted beside API keys and access tokens.

Verified like OpenID Connect Core 3.1.3.7 says a client verifies them: signature with a key of the
issuer's JWKS (the header's alg must be in the allow-list *and* be the key's own alg; `none` never
is), `iss` exactly the issuer, `aud` naming our client id, `exp`/`nbf` with a small leeway.

The JWKS comes from a file (`OPTILOOP_OIDC_JWKS_FILE`, offline setups and tests) or from the issuer's
discovery document. Fetched keys are cached for `OPTILOOP_OIDC_JWKS_TTL_S`; an unknown `kid` refetches
(the issuer rotated), at most once a minute, so a flood of made-up kids cannot turn into a flood of
requests to the issuer. Every fetch has a timeout; a failed fetch keeps the keys we had.

Claims map to a principal (`OPTILOOP_OIDC_PRINCIPAL_CLAIM`, `email` by default, only when not marked
unverified; else `sub`) and a role through a claim (`groups`) and a value -> role table; an identity
no entry maps (and no default role) is refused. ID-token principals hold their role on every project.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optiloop.auth import jose
from optiloop.auth.principal import Principal
from optiloop.auth.roles import ROLE_RANK
from optiloop.auth.settings import AuthSettings
from optiloop.auth.tokens import audience_matches, check_times
from optiloop.errors import Unauthorized

Fetch = Callable[[str, float], bytes]
REFETCH_MIN_S = 60.0
MAX_DOC_BYTES = 1024 * 1024
MAX_NAME_CHARS = 200


def fetch_url(url: str, timeout: float) -> bytes:
    """HTTPS only: the keys decide who gets in, so they must not come over plain HTTP."""
    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch {url!r}: not https")
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return bytes(resp.read(MAX_DOC_BYTES))


class Jwks:
    """The issuer's public keys by kid, from a file or from discovery, cached."""

    def __init__(
        self,
        auth: AuthSettings,
        fetch: Fetch = fetch_url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._auth = auth
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, tuple[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        if auth.oidc_jwks_file is not None:
            self._keys = self._parse(Path(auth.oidc_jwks_file).read_bytes())
            self._fetched_at = float("inf")  # a file is never refetched

    @staticmethod
    def _parse(doc: bytes) -> dict[str, tuple[str, Any]]:
        from optiloop.auth.asymmetric import key_from_jwk

        keys: dict[str, tuple[str, Any]] = {}
        for jwk in json.loads(doc).get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or not jwk.get("kid"):
                continue
            try:
                keys[str(jwk["kid"])] = key_from_jwk(jwk)
            except (ValueError, KeyError):
                continue  # a key type we do not accept cannot verify anything; the others still can
        return keys

    def _refresh(self) -> None:
        issuer = str(self._auth.oidc_issuer).rstrip("/")
        timeout = self._auth.oidc_timeout_s
        discovery = json.loads(self._fetch(f"{issuer}/.well-known/openid-configuration", timeout))
        if discovery.get("issuer") != self._auth.oidc_issuer:
            raise ValueError("the discovery document names another issuer")
        self._keys = self._parse(self._fetch(str(discovery["jwks_uri"]), timeout))

    def key(self, kid: str) -> tuple[str, Any] | None:
        now = self._clock()
        with self._lock:
            last = self._fetched_at
            stale = last is None or now - last > self._auth.oidc_jwks_ttl_s
            unknown = kid not in self._keys and (last is None or now - last > REFETCH_MIN_S)
            if stale or unknown:
                try:
                    self._refresh()
                    self._fetched_at = now
                except Exception as exc:  # network, JSON, shape: keep the keys we had
                    if last is None:
                        raise Unauthorized(f"cannot load the issuer's keys ({type(exc).__name__})") from None
            return self._keys.get(kid)


class OidcVerifier:
    def __init__(self, auth: AuthSettings, jwks: Jwks | None = None) -> None:
        assert auth.oidc_issuer and auth.oidc_audience  # AuthSettings refuses one without the other
        self._auth = auth
        self.issuer = auth.oidc_issuer
        self._jwks = jwks or Jwks(auth)
        self._roles = dict(auth.oidc_roles)

    def verify(self, jws: jose.Jws, *, now: float) -> Principal:
        alg, kid = jws.header.get("alg"), jws.header.get("kid")
        if alg not in self._auth.oidc_algorithms:
            raise Unauthorized(f"invalid ID token: algorithm {alg!r} is not accepted")
        found = self._jwks.key(kid) if isinstance(kid, str) else None
        if found is None:
            raise Unauthorized("invalid ID token: unknown signing key")
        key_alg, key = found
        from optiloop.auth.asymmetric import verify

        if key_alg != alg or not verify(key_alg, key, jws.signing_input, jws.signature):
            raise Unauthorized("invalid ID token: bad signature")
        claims = jws.claims
        if claims.get("iss") != self.issuer:
            raise Unauthorized("invalid ID token: another issuer")
        if not audience_matches(claims.get("aud"), str(self._auth.oidc_audience)):
            raise Unauthorized("invalid ID token: issued for another audience")
        check_times(claims, now, "ID token")
        return Principal(name=self._name(claims), role=self._role(claims), project_id=None, key_id=None)

    def _name(self, claims: dict[str, Any]) -> str:
        claim = self._auth.oidc_principal_claim
        value = claims.get(claim)
        if claim == "email" and claims.get("email_verified") is False:
            value = None  # an address the issuer has not verified must not name anyone
        value = value or claims.get("sub")
        if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS or not value.isprintable():
            raise Unauthorized(f"invalid ID token: no usable '{claim}' or 'sub' claim")
        return value

    def _role(self, claims: dict[str, Any]) -> str:
        raw = claims.get(self._auth.oidc_role_claim)
        values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        roles = [self._roles[v] for v in values if isinstance(v, str) and v in self._roles]
        if roles:
            return max(roles, key=lambda r: ROLE_RANK[r])
        if self._auth.oidc_default_role:
            return self._auth.oidc_default_role
        raise Unauthorized(
            f"this identity has no OptiLoop role: no '{self._auth.oidc_role_claim}' value is mapped "
            "(OPTILOOP_OIDC_ROLES)"
        )
