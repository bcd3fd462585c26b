"""POST /v1/auth/token: client credentials in, a short-lived JWT out, accepted beside API keys.

What must hold: the token works where its key works and nowhere else (role, project, four eyes), it
stops working when it expires or its key is revoked (at once), and nothing forged gets through:
tampered claims, `alg: none`, another issuer or audience, an unknown kid.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from optiloop.auth import jose
from optiloop.auth.signing import KeyRing, hmac_key

GRANT = "client_credentials"


def new_key(
    api: Any, role: str = "contributor", project_id: str | None = None, principal: str = "ci"
) -> dict:
    r = api.client.post(
        "/v1/api-keys",
        headers=api.admin,
        json={"principal": principal, "role": role, "project_id": project_id},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def token_for(api: Any, key: dict, **extra: str) -> str:
    form = {"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"], **extra}
    r = api.client.post("/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forge(
    token: str, header: dict | None = None, claims: dict | None = None, sig: bytes | None = None
) -> str:
    h, c, s = token.split(".")
    head = {**json.loads(jose.b64url_decode(h)), **(header or {})}
    body = {**json.loads(jose.b64url_decode(c)), **(claims or {})}
    parts = [jose.b64url(json.dumps(head).encode()), jose.b64url(json.dumps(body).encode())]
    return ".".join([*parts, s if sig is None else jose.b64url(sig)])


def test_form_request_answers_an_oauth2_token_response(api: Any) -> None:
    key = new_key(api)
    r = api.client.post(
        "/v1/auth/token", data={"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["scope"] == "contributor"
    assert r.headers["cache-control"] == "no-store"
    head = json.loads(jose.b64url_decode(body["access_token"].split(".")[0]))
    claims = json.loads(jose.b64url_decode(body["access_token"].split(".")[1]))
    assert head["alg"] == "HS256" and head["typ"] == "at+jwt" and head["kid"]
    assert claims["sub"] == "ci" and claims["role"] == "contributor" and claims["client_id"] == key["id"]
    assert {"iat", "exp", "jti", "iss", "aud", "nbf"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900
    assert key["key"] not in body["access_token"]
    [rec] = api.deps.store.audit.list(action="token.issued")
    assert rec.principal == "ci" and rec.target == key["id"] and rec.details["jti"] == claims["jti"]


def test_basic_auth_and_json_bodies_work_too(api: Any) -> None:
    key = new_key(api)
    basic = base64.b64encode(f"{key['id']}:{key['key']}".encode()).decode()
    r = api.client.post(
        "/v1/auth/token", data={"grant_type": GRANT}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200, r.text
    r = api.client.post(
        "/v1/auth/token", json={"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"]}
    )
    assert r.status_code == 200, r.text


def test_token_is_accepted_with_the_keys_role(api: Any) -> None:
    pid = api.project()
    viewer = token_for(api, new_key(api, "viewer", pid, principal="watcher"))
    assert api.client.get(f"/v1/projects/{pid}", headers=bearer(viewer)).status_code == 200
    r = api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=bearer(viewer), json={"batch_size": 1})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    other = api.project("other")
    assert api.client.get(f"/v1/projects/{other}", headers=bearer(viewer)).status_code == 403


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "olk_wrong-secret"}, 401, "invalid_client"),
        ({"client_id": "key_other"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"scope": "owner"}, 400, "invalid_scope"),
        ({"scope": "sudo"}, 400, "invalid_scope"),
    ],
)
def test_refusals_use_oauth2_error_codes(api: Any, form: dict, status: int, error: str) -> None:
    key = new_key(api)
    r = api.client.post(
        "/v1/auth/token",
        data={"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"], **form},
    )
    assert r.status_code == status and r.json()["error"] == error, r.text
    assert r.json()["error_description"]
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Basic")


def test_basic_and_body_credentials_together_are_refused(api: Any) -> None:
    key = new_key(api)
    basic = base64.b64encode(f"{key['id']}:{key['key']}".encode()).decode()
    r = api.client.post(
        "/v1/auth/token",
        data={"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_scope_narrows_the_token(api: Any) -> None:
    pid = api.project()
    r = api.client.post(
        "/v1/auth/token",
        data={"grant_type": GRANT, "client_id": (k := new_key(api, "admin"))["id"], "client_secret": k["key"],
              "scope": f"viewer project:{pid}"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["scope"] == f"viewer project:{pid}"
    tok = bearer(r.json()["access_token"])
    assert api.client.get(f"/v1/projects/{pid}", headers=tok).status_code == 200
    assert api.client.get("/v1/api-keys", headers=tok).status_code == 403  # viewer now
    assert api.client.post("/v1/projects", headers=tok, json={"name": "x"}).status_code == 403


def test_revoked_key_refuses_its_token_at_once(api: Any) -> None:
    key = new_key(api)
    tok = bearer(token_for(api, key))
    assert api.client.get("/v1/projects", headers=tok).status_code == 200
    assert api.client.delete(f"/v1/api-keys/{key['id']}", headers=api.admin).status_code == 200
    r = api.client.get("/v1/projects", headers=tok)
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid or revoked API key"
    again = api.client.post(
        "/v1/auth/token", data={"grant_type": GRANT, "client_id": key["id"], "client_secret": key["key"]}
    )
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"


def test_expired_token_is_refused(api: Any) -> None:
    tok = bearer(token_for(api, new_key(api)))
    creds = api.client.app.state.credentials
    creds.clock = lambda: time.time() + 900 + 31  # past exp and the 30 s leeway
    r = api.client.get("/v1/projects", headers=tok)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    creds.clock = lambda: time.time() + 899
    assert api.client.get("/v1/projects", headers=tok).status_code == 200


def test_forged_tokens_are_refused(api: Any) -> None:
    tok = token_for(api, new_key(api, "viewer"))
    ring = api.client.app.state.credentials.ring
    other = KeyRing([hmac_key("x" * 40, ring.current.kid)])  # right kid, wrong secret
    h, c, _ = tok.split(".")
    forged = {
        "tampered role": forge(tok, claims={"role": "owner"}),
        "tampered sub": forge(tok, claims={"sub": "admin"}),
        "alg none": forge(tok, header={"alg": "none"}, sig=b""),
        "alg HS512": forge(tok, header={"alg": "HS512"}),
        "unknown kid": forge(tok, header={"kid": "nope"}),
        "wrong secret": f"{h}.{c}.{jose.b64url(other.current.sign(f'{h}.{c}'.encode()))}",
        "not base64": f"{h}.{c}.!!",
        "garbage": "a.b.c",
    }
    for what, bad in forged.items():
        r = api.client.get("/v1/projects", headers=bearer(bad))
        assert r.status_code == 401, (what, r.text)
        assert r.json()["error"]["code"] == "unauthorized"


def _signed(api: Any, token: str, **claims: Any) -> str:
    """Re-signed with the server's own key: only the claim under test is wrong."""
    ring = api.client.app.state.credentials.ring
    parts = token.split(".")
    body = {**json.loads(jose.b64url_decode(parts[1])), **claims}
    head = json.loads(jose.b64url_decode(parts[0]))
    return jose.encode(head, body, ring.current.sign)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-api"}, {"iss": "optiloop/other-tenant"}, {"role": "owner"}, {"client_id": "key_x"}],
)
def test_validly_signed_tokens_with_wrong_claims_are_refused(api: Any, claims: dict) -> None:
    tok = token_for(api, new_key(api, "viewer"))
    assert api.client.get("/v1/projects", headers=bearer(_signed(api, tok))).status_code == 200
    assert api.client.get("/v1/projects", headers=bearer(_signed(api, tok, **claims))).status_code == 401


def test_rotation_old_kid_still_verifies_new_kid_signs(api: Any) -> None:
    creds = api.client.app.state.credentials
    old = token_for(api, new_key(api, principal="old"))
    creds.ring = KeyRing([hmac_key("n" * 48, "2025-02"), *creds.ring.keys])
    new = token_for(api, new_key(api, principal="new"))
    assert json.loads(jose.b64url_decode(new.split(".")[0]))["kid"] == "2025-02"
    for tok in (old, new):
        assert api.client.get("/v1/projects", headers=bearer(tok)).status_code == 200
    creds.ring = KeyRing(list(creds.ring.keys[:1]))  # the old key retired
    assert api.client.get("/v1/projects", headers=bearer(old)).status_code == 401
    assert api.client.get("/v1/projects", headers=bearer(new)).status_code == 200


def test_four_eyes_holds_with_tokens(api: Any) -> None:
    pid = api.project()
    alice = bearer(token_for(api, new_key(api, "admin", pid, principal="alice")))
    bob = bearer(token_for(api, new_key(api, "admin", pid, principal="bob")))
    prompt = api.client.post(f"/v1/projects/{pid}/prompts", headers=alice, json={"name": "qa"}).json()
    v = api.client.post(
        f"/v1/prompts/{prompt['id']}/versions",
        headers=alice,
        json={"body": "Q: {{q}}", "variables": {"q": "str"}},
    ).json()
    r = api.client.post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", headers=alice, json={})
    assert r.status_code == 201, r.text
    own = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=alice, json={})
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]["message"]
    # alice's API key itself is the same person to four eyes as her token
    ok = api.client.post(f"/v1/prompt_versions/{v['id']}/approve", headers=bob, json={})
    assert ok.status_code == 200 and ok.json()["status"] == "approved", ok.text


def test_jwks_is_empty_for_shared_secrets(api: Any) -> None:
    r = api.client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.json() == {"keys": []}
