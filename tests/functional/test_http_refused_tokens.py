"""Refused bearer JWTs are audited: forged, expired, another tenant's. Their claims are recorded as
claimed, never as the principal, and within one shared refusal budget."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from optiloop.auth import jose


def _token(api: Any) -> str:
    key = api.client.post(
        "/v1/api-keys", headers=api.admin, json={"principal": "ci", "role": "viewer"}
    ).json()
    form = {"grant_type": "client_credentials", "client_id": key["id"], "client_secret": key["key"]}
    r = api.client.post("/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _with(token: str, **claims: Any) -> str:
    """The token's claims changed, its signature kept: what a forger can do without the secret."""
    h, c, s = token.split(".")
    body = {**json.loads(jose.b64url_decode(c)), **claims}
    return f"{h}.{jose.b64url(json.dumps(body).encode())}.{s}"


def _refused(api: Any) -> list[dict[str, Any]]:
    return [
        {"principal": r.principal, **r.details}
        for r in api.deps.store.audit.list(action="auth.refused", limit=100)
    ]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("forged_role", "signature"),
        ("another_tenant", ""),
        ("expired", "expired"),
        ("garbage", "well-formed"),
    ],
)
def test_a_refused_token_is_a_401_and_an_audit_record(api: Any, case: str, reason: str) -> None:
    token = _token(api)
    if case == "forged_role":
        raw = _with(token, role="admin", sub="mallory")
    elif case == "another_tenant":
        raw = _with(token, iss="optiloop/globex", aud="optiloop-api")
    elif case == "expired":
        api.client.app.state.credentials.clock = lambda: time.time() + 3600
        raw = token
    else:
        raw = "eyJhbGciOiJIUzI1NiJ9.not-json.c2ln"
    r = api.client.get("/v1/projects", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    (rec,) = _refused(api)
    assert rec["principal"] == "unauthenticated" and rec["kind"] == "jwt" and rec["path"] == "/v1/projects"
    assert reason in rec["reason"]
    if case == "forged_role":
        assert rec["claimed_sub"] == "mallory"  # recorded as claimed, not as who asked


def test_refused_tokens_share_one_refusal_budget(api: Any) -> None:
    budget = api.client.app.state.limits.refusals_per_minute
    for _ in range(budget + 20):
        api.client.get("/v1/projects", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"})
    assert 0 < len(_refused(api)) <= budget


def test_a_wrong_api_key_is_not_recorded(api: Any) -> None:
    assert api.client.get("/v1/projects", headers={"Authorization": "Bearer olk_nope"}).status_code == 401
    assert _refused(api) == []


def test_a_revoked_key_is_recorded_under_its_principal_within_its_budget(api: Any) -> None:
    pid = api.project()
    key = api.client.post(
        "/v1/api-keys", headers=api.admin, json={"principal": "ci", "role": "viewer", "project_id": pid}
    ).json()
    assert api.client.delete(f"/v1/api-keys/{key['id']}", headers=api.admin).status_code == 200
    budget = api.client.app.state.limits.refusals_per_minute
    for _ in range(budget + 5):
        r = api.client.get("/v1/projects", headers={"x-api-key": key["key"]})
        assert r.status_code == 401
    refused = _refused(api)
    assert 0 < len(refused) <= budget
    assert refused[0] == {
        "principal": "ci", "reason": "key revoked", "kind": "api_key", "key_id": key["id"],
        "path": "/v1/projects", "where": "api",
    }  # fmt: skip
    assert key["key"] not in repr(refused)
    [rec, *_] = api.deps.store.audit.list(action="auth.refused", project_id=pid, limit=1)
    assert rec.project_id == pid  # in the key's project's trail
