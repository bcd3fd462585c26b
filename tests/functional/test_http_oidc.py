"""ID tokens of a configured OIDC issuer, and asymmetric (ES256/EdDSA) access tokens with a JWKS.

The issuer is made here: keys generated with `cryptography`, its JWKS written to a file
(OPTILOOP_OIDC_JWKS_FILE), or served through a fake fetch for the discovery path. No network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.auth import asymmetric, jose
from optiloop.auth.oidc import Jwks
from optiloop.auth.settings import AuthSettings
from optiloop.config import Settings
from optiloop.errors import Unauthorized

ISSUER = "https://login.example.test/realm"
AUDIENCE = "optiloop-console"
ADMIN = "test-admin-token-0123456789"


class Issuer:
    """A tiny OpenID provider: an RSA and an EC key, a JWKS, and ID tokens on demand."""

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in (("rsa-1", self.rsa), ("ec-1", self.ec)):
            keys.append({**asymmetric.public_jwk(key.public_key()), "kid": kid, "use": "sig"})
        return {"keys": keys}

    def token(self, kid: str = "rsa-1", header: dict | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUDIENCE, "sub": "u-123", "email": "dana@example.test",
                "iat": now, "exp": now + 300, "groups": ["ml-team"], **claims}  # fmt: skip
        alg = "RS256" if kid == "rsa-1" else "ES256"

        def sign(data: bytes) -> bytes:
            if alg == "RS256":
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import padding

                return self.rsa.sign(data, padding.PKCS1v15(), hashes.SHA256())
            return asymmetric.sign("ES256", self.ec, data)

        return jose.encode({"alg": alg, "kid": kid, "typ": "JWT", **(header or {})}, body, sign)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def client(issuer: Issuer, tmp_path: Path) -> Iterator[TestClient]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    env = {
        "OPTILOOP_BACKEND": "memory",
        "OPTILOOP_ADMIN_TOKEN": ADMIN,
        "OPTILOOP_OIDC_ISSUER": ISSUER,
        "OPTILOOP_OIDC_AUDIENCE": AUDIENCE,
        "OPTILOOP_OIDC_JWKS_FILE": str(jwks),
        "OPTILOOP_OIDC_ROLES": json.dumps({"ml-team": "contributor", "platform": "admin"}),
    }
    with TestClient(create_app(settings=Settings.from_env(env))) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
def test_id_token_is_accepted_with_the_mapped_role(client: TestClient, issuer: Issuer, kid: str) -> None:
    tok = bearer(issuer.token(kid))
    r = client.post("/v1/projects", headers=tok, json={"name": "from-sso"})
    assert r.status_code == 201, r.text
    assert client.get("/v1/api-keys", headers=tok).status_code == 403  # contributor, not admin
    [rec] = [a for a in client.app.state.deps.store.audit.list(action="project.created")]  # type: ignore[attr-defined]
    assert rec.principal == "dana@example.test"


def test_highest_mapped_group_wins_and_unmapped_is_refused(client: TestClient, issuer: Issuer) -> None:
    admin = bearer(issuer.token(groups=["ml-team", "platform"]))
    assert client.get("/v1/api-keys", headers=admin).status_code == 200
    r = client.get("/v1/projects", headers=bearer(issuer.token(groups=["visitors"])))
    assert r.status_code == 401 and "no OptiLoop role" in r.json()["error"]["message"]


def test_unverified_email_falls_back_to_sub(client: TestClient, issuer: Issuer) -> None:
    tok = bearer(issuer.token(email_verified=False))
    assert client.post("/v1/projects", headers=tok, json={"name": "p"}).status_code == 201
    store = client.app.state.deps.store  # type: ignore[attr-defined]
    assert store.audit.list(action="project.created")[-1].principal == "u-123"


@pytest.mark.parametrize(
    "what",
    ["expired", "not yet valid", "other audience", "other issuer", "alg none", "HS256 with the public key",
     "unknown kid", "tampered"],
)  # fmt: skip
def test_bad_id_tokens_are_refused(client: TestClient, issuer: Issuer, what: str) -> None:
    now = int(time.time())
    good = issuer.token()
    h, c, s = good.split(".")
    claims = json.loads(jose.b64url_decode(c))
    bad = {
        "expired": lambda: issuer.token(iat=now - 900, exp=now - 60),
        "not yet valid": lambda: issuer.token(nbf=now + 600),
        "other audience": lambda: issuer.token(aud="someone-else"),
        "other issuer": lambda: Issuer("https://evil.example.test").token(),
        "alg none": lambda: f"{jose.b64url(json.dumps({'alg': 'none', 'kid': 'rsa-1'}).encode())}.{c}.",
        "HS256 with the public key": lambda: jose.encode(
            {"alg": "HS256", "kid": "rsa-1"},
            json.loads(jose.b64url_decode(c)),
            lambda d: jose.hs256_sign(
                issuer.rsa.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
                d,
            ),
        ),
        "unknown kid": lambda: issuer.token(header={"kid": "rsa-9"}),
        "tampered": lambda: f"{h}.{jose.b64url(json.dumps({**claims, 'groups': ['platform']}).encode())}.{s}",
    }[what]()
    assert client.get("/v1/projects", headers=bearer(good)).status_code == 200
    r = client.get("/v1/projects", headers=bearer(bad))
    assert r.status_code == 401, (what, r.text)


def test_four_eyes_compares_the_id_token_principal(client: TestClient, issuer: Issuer) -> None:
    dana = bearer(issuer.token(groups=["platform"]))
    erin = bearer(issuer.token(groups=["platform"], email="erin@example.test", sub="u-456"))
    pid = client.post("/v1/projects", headers=dana, json={"name": "fe"}).json()["id"]
    prompt = client.post(f"/v1/projects/{pid}/prompts", headers=dana, json={"name": "qa"}).json()
    v = client.post(
        f"/v1/prompts/{prompt['id']}/versions",
        headers=dana,
        json={"body": "Q: {{q}}", "variables": {"q": "str"}},
    ).json()
    assert (
        client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=dana, json={}).status_code
        == 201
    )
    assert client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=dana, json={}).status_code == 403
    assert client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=erin, json={}).status_code == 200


def test_discovery_is_fetched_once_and_cached(issuer: Issuer) -> None:
    calls: list[str] = []
    docs = {
        f"{ISSUER}/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/keys"},
        f"{ISSUER}/keys": issuer.jwks(),
    }

    def fetch(url: str, timeout: float) -> bytes:
        assert timeout == 3.0
        calls.append(url)
        return json.dumps(docs[url]).encode()

    clock = [1000.0]
    jwks = Jwks(AuthSettings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE), fetch=fetch, clock=lambda: clock[0])
    assert jwks.key("rsa-1") is not None and jwks.key("ec-1") is not None
    assert len(calls) == 2  # discovery + keys, once
    assert jwks.key("made-up") is None and len(calls) == 2  # an unknown kid refetches at most once a minute
    clock[0] += 61
    assert jwks.key("made-up") is None and len(calls) == 4
    clock[0] += 3600

    def down(url: str, timeout: float) -> bytes:
        raise TimeoutError

    jwks._fetch = down
    assert jwks.key("rsa-1") is not None  # a failed refresh keeps the keys we had


def test_discovery_failure_without_keys_is_a_401(issuer: Issuer) -> None:
    def down(url: str, timeout: float) -> bytes:
        raise TimeoutError

    jwks = Jwks(AuthSettings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE), fetch=down)
    with pytest.raises(Unauthorized):
        jwks.key("rsa-1")


@pytest.mark.parametrize(
    "make", [lambda: ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate]
)
def test_asymmetric_access_tokens_publish_their_jwks(tmp_path: Path, make: Any) -> None:
    pem = make().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "keys.pem").write_bytes(pem)
    env = {
        "OPTILOOP_BACKEND": "memory",
        "OPTILOOP_ADMIN_TOKEN": ADMIN,
        "OPTILOOP_TOKEN_KEYS_FILE": str(tmp_path / "keys.pem"),
    }
    with TestClient(create_app(settings=Settings.from_env(env))) as c:
        k = c.post("/v1/api-keys", headers=bearer(ADMIN), json={"principal": "svc", "role": "viewer"}).json()
        r = c.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": k["id"], "client_secret": k["key"]},
        )
        tok = r.json()["access_token"]
        [jwk] = c.get("/.well-known/jwks.json").json()["keys"]
        head = json.loads(jose.b64url_decode(tok.split(".")[0]))
        assert head["kid"] == jwk["kid"] and head["alg"] == jwk["alg"] in ("ES256", "EdDSA")
        assert "d" not in jwk  # never the private half
        alg, public = asymmetric.key_from_jwk(jwk)  # anyone can verify with the published key
        h, cl, s = tok.split(".")
        assert asymmetric.verify(alg, public, f"{h}.{cl}".encode(), jose.b64url_decode(s))
        assert c.get("/v1/projects", headers=bearer(tok)).status_code == 200
