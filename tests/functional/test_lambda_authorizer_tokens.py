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
