"""Console sign-in: an API key exchanged for a cookie session (HttpOnly, SameSite, CSRF on writes),
ended by revoking the key; and OIDC authorization code + PKCE against an in-process issuer that signs
with a real EC key (no network)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.auth import asymmetric, jose
from optiloop.config import Settings
from optiloop.console.oidc import OidcLogin

ADMIN = "test-admin-token-0123456789"
ISSUER = "https://idp.example.test"
CLIENT_ID = "optiloop-console"


def _actions(client: TestClient, action: str) -> list[dict[str, Any]]:
    store = client.app.state.deps.store  # type: ignore[attr-defined]
    return [{"principal": r.principal, **r.details} for r in store.audit.list(action=action, limit=1000)]


# --------------------------------------------------------------------------- API key -> session
@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings.from_env({"OPTILOOP_BACKEND": "memory", "OPTILOOP_ADMIN_TOKEN": ADMIN})
    with TestClient(create_app(settings=settings)) as c:
        yield c


def _key(client: TestClient, role: str = "admin", principal: str = "alice") -> dict[str, Any]:
    r = client.post(
        "/v1/api-keys",
        headers={"Authorization": f"Bearer {ADMIN}"},
        json={"principal": principal, "role": role},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_key_becomes_an_httponly_samesite_session_with_csrf_on_writes(client: TestClient) -> None:
    key = _key(client)
    r = client.post("/console/session", json={"api_key": key["key"]})
    assert r.status_code == 201, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "optiloop_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert key["key"] not in r.text  # the key is not echoed, the cookie is not the key
    csrf = r.json()["csrf_token"]
    assert r.json()["principal"] == "alice" and r.json()["role"] == "admin"

    assert client.get("/v1/projects").status_code == 200  # the cookie alone reads
    refused = client.post("/v1/projects", json={"name": "p"})
    assert refused.status_code == 403 and refused.json()["error"]["details"][0]["field"] == "x-csrf-token"
    assert _actions(client, "session.refused")[-1]["reason"] == "missing or wrong CSRF token"
    wrong = client.post("/v1/projects", json={"name": "p"}, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    made = client.post("/v1/projects", json={"name": "p"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["created_by"] == "alice"  # the key's principal and role
    assert client.get("/console/session").json()["csrf_token"] == csrf  # a reloaded page reads it again


def test_revoking_the_key_ends_its_sessions_audited(client: TestClient) -> None:
    key = _key(client)
    client.post("/console/session", json={"api_key": key["key"]})
    assert client.get("/v1/projects").status_code == 200
    r = client.delete(f"/v1/api-keys/{key['id']}", headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 200
    r = client.get("/v1/projects")
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    assert [a["reason"] for a in _actions(client, "session.refused")] == ["key revoked"]
    assert client.get("/v1/projects").status_code == 401  # and the session is gone for good


def test_sign_out_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    key = _key(client, role="viewer", principal="vic")
    csrf = client.post("/console/session", json={"api_key": key["key"]}).json()["csrf_token"]
    assert client.delete("/console/session").status_code == 403
    assert client.delete("/console/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/v1/projects").status_code == 401
    assert [a["principal"] for a in _actions(client, "session.closed")] == ["vic"]


def test_a_session_has_its_keys_role_only(client: TestClient) -> None:
    key = _key(client, role="viewer", principal="vic")
    csrf = client.post("/console/session", json={"api_key": key["key"]}).json()["csrf_token"]
    r = client.post("/v1/projects", json={"name": "p"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and r.json()["error"]["details"][0]["field"] == "role"


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"api_key": "olk_not-a-key"}, {}, 401),
        ({"api_key": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}, {}, 401),
        ({"api_key": ADMIN}, {"Origin": "https://evil.example"}, 403),
        ({"key": ADMIN}, {}, 422),
    ],
)
def test_bad_sign_ins_are_refused(
    client: TestClient, body: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    r = client.post("/console/session", json=body, headers=headers)
    assert r.status_code == status, r.text
    assert "set-cookie" not in r.headers
    assert client.get("/v1/projects").status_code == 401


def test_a_header_credential_wins_over_a_cookie(client: TestClient) -> None:
    key = _key(client, role="viewer", principal="vic")
    client.post("/console/session", json={"api_key": key["key"]})
    r = client.post("/v1/projects", json={"name": "p"}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 201 and r.json()["created_by"] == "admin"  # no CSRF needed: not a session


def test_a_forged_session_cookie_is_401(client: TestClient) -> None:
    client.cookies.set("optiloop_session", "forged-" + "x" * 36)
    r = client.get("/v1/projects")
    assert r.status_code == 401 and "sign in again" in r.json()["error"]["message"]


# --------------------------------------------------------------------------- OIDC code + PKCE
class FakeIssuer:
    """An OpenID provider in this process: discovery, an authorization step, a token endpoint that
    checks PKCE and redirect_uri, and ID tokens signed with a real P-256 key."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_claims: dict[str, Any] = {}
        self.sign_with: Any = None  # another key: a forged token

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**asymmetric.public_jwk(self.key.public_key()), "kid": "k1", "use": "sig"}]}

    # the Http port of optiloop.console.oidc
    def get_json(self, url: str, timeout: float) -> dict[str, Any]:
        assert url == f"{ISSUER}/.well-known/openid-configuration"
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
        }

    def post_form(self, url: str, form: Mapping[str, str], timeout: float) -> dict[str, Any]:
        assert url == f"{ISSUER}/token" and form["grant_type"] == "authorization_code"
        grant = self.codes.pop(form["code"], None)
        if grant is None:
            raise RuntimeError("invalid_grant")  # unknown or already used code
        challenge = jose.b64url(hashlib.sha256(form["code_verifier"].encode()).digest())
        if challenge != grant["code_challenge"] or form["redirect_uri"] != grant["redirect_uri"]:
            raise RuntimeError("invalid_grant")
        assert form["client_id"] == CLIENT_ID
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-1", "email": "dana@example.test",
                  "groups": ["platform"], "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **self.token_claims}  # fmt: skip
        key = self.sign_with or self.key
        token = jose.encode(
            {"alg": "ES256", "kid": "k1", "typ": "JWT"}, claims, lambda d: asymmetric.sign("ES256", key, d)
        )
        return {"id_token": token, "token_type": "Bearer"}

    def authorize(self, location: str) -> str:
        """The user signs in at the issuer: the redirect back to the console, with a code."""
        url = urllib.parse.urlsplit(location)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/authorize"
        q = dict(urllib.parse.parse_qsl(url.query))
        assert (
            q["response_type"] == "code"
            and q["code_challenge_method"] == "S256"
            and q["client_id"] == CLIENT_ID
        )
        assert "code_verifier" not in q and len(q["code_challenge"]) == 43
        code = secrets.token_urlsafe(16)
        self.codes[code] = q
        return f"{q['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': q['state']})}"


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def oidc_client(issuer: FakeIssuer, tmp_path: Path) -> Iterator[TestClient]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    env = {
        "OPTILOOP_BACKEND": "memory",
        "OPTILOOP_ADMIN_TOKEN": ADMIN,
        "OPTILOOP_OIDC_ISSUER": ISSUER,
        "OPTILOOP_OIDC_AUDIENCE": CLIENT_ID,
        "OPTILOOP_OIDC_JWKS_FILE": str(jwks),
        "OPTILOOP_OIDC_ROLES": json.dumps({"platform": "admin"}),
    }
    app = create_app(settings=Settings.from_env(env))
    app.state.oidc_login = OidcLogin(app.state.credentials.auth, app.state.credentials.oidc, http=issuer)
    with TestClient(app) as c:
        yield c


def _sign_in(client: TestClient, issuer: FakeIssuer) -> Any:
    start = client.get("/console/oidc/login", follow_redirects=False)
    assert start.status_code == 302, start.text
    back = issuer.authorize(start.headers["location"])
    return client.get(back.replace("http://testserver", ""), follow_redirects=False)


def test_oidc_code_and_pkce_open_a_session_for_the_id_tokens_principal(
    oidc_client: TestClient, issuer: FakeIssuer
) -> None:
    r = _sign_in(oidc_client, issuer)
    assert r.status_code == 302 and r.headers["location"] == "/#/projects", r.text
    assert "httponly" in r.headers["set-cookie"].lower()
    me = oidc_client.get("/console/session").json()
    assert me["principal"] == "dana@example.test" and me["role"] == "admin"
    made = oidc_client.post("/v1/projects", json={"name": "p"}, headers={"X-CSRF-Token": me["csrf_token"]})
    assert made.status_code == 201 and made.json()["created_by"] == "dana@example.test"
    assert [a["via"] for a in _actions(oidc_client, "session.opened")] == ["oidc"]


@pytest.mark.parametrize("attack", ["forged", "expired", "other_audience", "wrong_nonce", "replayed_code"])
def test_bad_oidc_sign_ins_are_401_and_audited(
    oidc_client: TestClient, issuer: FakeIssuer, attack: str
) -> None:
    if attack == "forged":
        issuer.sign_with = ec.generate_private_key(ec.SECP256R1())
    elif attack == "expired":
        issuer.token_claims = {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}
    elif attack == "other_audience":
        issuer.token_claims = {"aud": "another-tenant"}
    elif attack == "wrong_nonce":
        issuer.token_claims = {"nonce": "not-this-sign-in"}
    if attack == "replayed_code":
        start = oidc_client.get("/console/oidc/login", follow_redirects=False)
        back = issuer.authorize(start.headers["location"]).replace("http://testserver", "")
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))["code"]
        grant = dict(issuer.codes[code])
        assert oidc_client.get(back, follow_redirects=False).status_code == 302
        oidc_client.cookies.clear()
        issuer.codes[code] = grant  # even if the issuer took it twice, our state is single-use
        r = oidc_client.get(back, follow_redirects=False)
    else:
        r = _sign_in(oidc_client, issuer)
    assert r.status_code == 401, r.text
    assert "set-cookie" not in r.headers or "optiloop_session=" not in r.headers["set-cookie"]
    refused = [a for a in _actions(oidc_client, "session.refused") if a["principal"] == "console-signin"]
    assert refused and refused[-1]["via"] == "oidc"
    assert oidc_client.get("/v1/projects").status_code == 401


def test_a_sign_in_started_in_another_browser_is_refused(oidc_client: TestClient, issuer: FakeIssuer) -> None:
    start = oidc_client.get("/console/oidc/login", follow_redirects=False)
    back = issuer.authorize(start.headers["location"]).replace("http://testserver", "")
    oidc_client.cookies.clear()  # the victim's browser: no state cookie
    r = oidc_client.get(back, follow_redirects=False)
    assert r.status_code == 401 and "not started in this browser" in r.json()["error"]["message"]


def test_without_an_issuer_the_oidc_routes_say_so(client: TestClient) -> None:
    r = client.get("/console/oidc/login", follow_redirects=False)
    assert r.status_code == 404 and "OPTILOOP_OIDC_ISSUER" in r.json()["error"]["message"]
