"""The REQUEST authorizer accepts exactly the keys the local runtime accepts, read the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.authorizer.handler import authorize, make_handler, presented_key
from optiloop.api.app import create_app
from optiloop.auth.bootstrap import ensure_first_key
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

TOKEN = "olk_authorizer-test-token-0123456789"
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/audit/logs"


@pytest.fixture
def deps() -> Iterator[Deps]:
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    ensure_first_key(deps, TOKEN, generate=False)
    yield deps
    store.close()


def event(headers: dict[str, str] | None) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": ARN,
        "headers": headers,
        "httpMethod": "GET",
        "path": "/v1/audit/logs",
    }


def verdict(deps: Deps, headers: dict[str, str] | None) -> str:
    try:
        out = authorize(event(headers), deps.store)
    except Exception as exc:
        assert str(exc) == "Unauthorized"
        return "401"
    [stmt] = out["policyDocument"]["Statement"]
    assert stmt["Resource"] == ARN and stmt["Action"] == "execute-api:Invoke"
    return "allow" if stmt["Effect"] == "Allow" else "deny"


CASES = [
    ({"Authorization": f"Bearer {TOKEN}"}, "allow"),
    ({"authorization": f"bearer {TOKEN}"}, "allow"),
    ({"X-Api-Key": TOKEN}, "allow"),
    ({"Authorization": "Basic dXNlcjpwYXNz", "x-api-key": TOKEN}, "allow"),  # non-Bearer falls through
    ({"Authorization": "Bearer olk_wrong"}, "deny"),
    ({"x-api-key": "olk_wrong"}, "deny"),
    ({"Authorization": f"Bearer  {TOKEN} "}, "allow"),  # stripped, as FastAPI does
    ({"Authorization": "Bearer " + "x" * 600}, "deny"),
    ({"Authorization": "Bearer"}, "401"),
    ({}, "401"),
    (None, "401"),
]


@pytest.mark.parametrize(("headers", "expected"), CASES)
def test_verdicts(deps: Deps, headers: dict[str, str] | None, expected: str) -> None:
    assert verdict(deps, headers) == expected


def test_same_verdict_as_the_local_runtime(deps: Deps) -> None:
    """Parity: where the authorizer allows, the app authenticates; where it refuses, the app says 401."""
    app = create_app(deps, Settings(backend="memory"), routers=["audit"])
    with TestClient(app) as client:
        for headers, _ in CASES:
            status = client.get("/v1/audit/logs", headers=headers or {}).status_code
            assert (verdict(deps, headers) == "allow") == (status == 200), (headers, status)
            assert (verdict(deps, headers) != "allow") == (status == 401), (headers, status)


def test_revoked_key_is_refused_at_once(deps: Deps) -> None:
    [key] = deps.store.keys.list()
    assert verdict(deps, {"x-api-key": TOKEN}) == "allow"
    deps.store.keys.revoke(key.id)
    assert verdict(deps, {"x-api-key": TOKEN}) == "deny"


def test_allow_carries_the_principal_but_never_the_key(deps: Deps) -> None:
    out = make_handler(lambda: deps.store)(event({"x-api-key": TOKEN}), None)
    assert out["principalId"] == "admin"
    assert out["context"] == {
        "principal": "admin",
        "role": "admin",
        "project_id": "",
        "key_id": out["context"]["key_id"],
    }
    assert TOKEN not in repr(out)
    assert all(isinstance(v, str | int | bool) for v in out["context"].values())


def test_presented_key_prefers_bearer() -> None:
    assert presented_key({"Authorization": "Bearer a", "x-api-key": "b"}) == "a"
    assert presented_key({"x-api-key": ""}) is None
