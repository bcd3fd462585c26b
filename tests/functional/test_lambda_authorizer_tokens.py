"""The Lambda authorizer accepts access tokens and OIDC ID tokens exactly as the app does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.authorizer.handler import make_handler
from optiloop.auth.bootstrap import ensure_first_key
from optiloop.auth.credentials import Credentials
from optiloop.auth.settings import AuthSettings
from optiloop.auth.tokens import Grant
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

ADMIN = "olk_authorizer-token-test-0123456789"
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/projects"
SECRET = "s" * 48


@pytest.fixture
def deps() -> Iterator[Deps]:
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    ensure_first_key(deps, ADMIN, generate=False)
    yield deps
    store.close()


def creds(**auth: Any) -> Credentials:
    settings = AuthSettings(token_secret=SECRET, token_issuer="optiloop/acme", **auth)
    return Credentials.from_settings(settings, backend="aws", data_dir=Path("."))


def event(token: str) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": ARN, "headers": {"Authorization": f"Bearer {token}"}}


def effect(out: dict[str, Any]) -> str:
    return str(out["policyDocument"]["Statement"][0]["Effect"])


def test_access_token_is_allowed_with_its_principal_and_denied_once_revoked(deps: Deps) -> None:
    c = creds()
    [key] = deps.store.keys.list()
    token = str(c.issue(deps.store, Grant(key.id, ADMIN))["access_token"])
    handler = make_handler(lambda: deps.store, lambda: c)
    out = handler(event(token), None)
    assert effect(out) == "Allow" and out["context"]["principal"] == "admin"
    assert out["context"]["key_id"] == key.id and token not in repr(out)
    deps.store.keys.revoke(key.id)
    assert effect(handler(event(token), None)) == "Deny"  # no cache: the next request is refused


def test_expired_or_other_tenant_tokens_are_denied(deps: Deps) -> None:
    c = creds()
    [key] = deps.store.keys.list()
    token = str(c.issue(deps.store, Grant(key.id, ADMIN))["access_token"])
    later = Credentials(c.auth, c.ring, clock=lambda: time.time() + 3600)
    assert effect(make_handler(lambda: deps.store, lambda: later)(event(token), None)) == "Deny"
    other = Credentials.from_settings(
        AuthSettings(token_secret=SECRET, token_issuer="optiloop/other"), backend="aws", data_dir=Path(".")
    )  # same secret by mistake, still another tenant's issuer
    assert effect(make_handler(lambda: deps.store, lambda: other)(event(token), None)) == "Deny"


def test_without_signing_keys_tokens_are_denied_keys_still_work(deps: Deps) -> None:
    none = Credentials.from_settings(AuthSettings(), backend="aws", data_dir=Path("."))
    assert none.ring is None
    handler = make_handler(lambda: deps.store, lambda: none)
    assert effect(handler(event("a.b.c"), None)) == "Deny"
    assert effect(handler(event(ADMIN), None)) == "Allow"


def _refused(deps: Deps) -> list[dict[str, Any]]:
    return [{"principal": r.principal, **r.details} for r in deps.store.audit.list(action="auth.refused")]


def test_refusals_at_the_edge_are_audited_within_one_budget(deps: Deps) -> None:
    from optiloop.api.ratelimit import PrincipalLimits
    from optiloop.auth.keys import hash_key
    from optiloop.store.records import ApiKey

    c = creds()
    [admin] = deps.store.keys.list()
    token = str(c.issue(deps.store, Grant(admin.id, ADMIN))["access_token"])
    budget = PrincipalLimits(100.0, 100, refusals_per_minute=5)
    late = Credentials(c.auth, c.ring, clock=lambda: time.time() + 3600)
    assert (
        effect(make_handler(lambda: deps.store, lambda: late, lambda: budget)(event(token), None)) == "Deny"
    )
    [rec] = _refused(deps)  # expired: recorded as what it claimed
    assert rec["principal"] == "unauthenticated" and rec["claimed_sub"] == "admin"
    assert "expired" in rec["reason"] and rec["where"] == "authorizer" and rec["path"] == "/v1/projects"
    assert token not in repr(rec)

    handler = make_handler(lambda: deps.store, lambda: c, lambda: budget)
    assert effect(handler(event("olk_nobody-0123456789abcdef"), None)) == "Deny"
    assert len(_refused(deps)) == 1  # a key that matches nothing names nobody: not recorded

    raw = "olk_revoked-ci-key-0123456789"
    deps.store.keys.add(ApiKey("key_ci", hash_key(raw), "ci", "viewer", None, "t", "admin"))
    deps.store.keys.revoke("key_ci")
    for _ in range(12):  # a script looping on its revoked key: at most its budget is recorded
        assert effect(handler(event(raw), None)) == "Deny"
    mine = [r for r in _refused(deps) if r["principal"] == "ci"]
    assert len(mine) == 5 and mine[0]["key_id"] == "key_ci" and mine[0]["reason"] == "key revoked"
    for _ in range(12):  # and junk tokens spend the shared name's budget, not ci's
        handler(event("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"), None)
    assert len([r for r in _refused(deps) if r["principal"] == "unauthenticated"]) == 5
    assert deps.store.audit.verify().ok


def test_an_audit_failure_still_denies(deps: Deps) -> None:
    class Broken:
        def refusal(self, principal: str) -> Any:
            raise RuntimeError("store down")

    handler = make_handler(lambda: deps.store, creds, lambda: Broken())
    assert effect(handler(event("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"), None)) == "Deny"
