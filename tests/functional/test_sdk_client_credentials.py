"""The SDK with client credentials: it fetches an access token, reuses it, refreshes it when it nears
expiry or is refused, and surfaces the token endpoint's OAuth2 errors as the SDK's exceptions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from optiloop.client import AsyncOptiLoop, AuthenticationError, OptiLoop


class Recording(httpx.BaseTransport):
    """Into the app in this process, remembering which paths were called with which credential."""

    def __init__(self, tc: TestClient) -> None:
        self.tc = tc
        self.calls: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, request.headers.get("authorization", "")))
        r = self.tc.send(request)
        headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() != "content-encoding"]
        return httpx.Response(r.status_code, headers=headers, content=r.content)


def new_key(api: Any) -> dict[str, Any]:
    r = api.client.post("/v1/api-keys", headers=api.admin, json={"principal": "svc", "role": "contributor"})
    return dict(r.json())


def test_token_is_fetched_once_and_the_key_goes_only_to_the_token_endpoint(
    client: TestClient, api: Any
) -> None:
    key = new_key(api)
    t = Recording(client)
    with OptiLoop(
        "http://testserver", client_id=key["id"], client_secret=key["key"], transport=t, env={}
    ) as ol:
        ol.projects.create("via-token")
        ol.projects.list()
    paths = [p for p, _ in t.calls]
    assert paths == ["/v1/auth/token", "/v1/projects", "/v1/projects"]
    assert all(key["key"] not in auth and auth.startswith("Bearer ey") for _, auth in t.calls[1:])
    assert "svc" in [r.principal for r in api.deps.store.audit.list(action="project.created")]


def test_a_refused_token_is_refreshed_once(client: TestClient, api: Any) -> None:
    key = new_key(api)
    t = Recording(client)
    with OptiLoop(
        "http://testserver", client_id=key["id"], client_secret=key["key"], transport=t, env={}
    ) as ol:
        ol.projects.list()
        ol._http.auth._token = "a.b.c"  # type: ignore[union-attr]  # e.g. signed with a retired key
        ol.projects.list()
    assert [p for p, _ in t.calls] == [
        "/v1/auth/token",
        "/v1/projects",
        "/v1/projects",
        "/v1/auth/token",
        "/v1/projects",
    ]


def test_expiring_token_is_refreshed_before_use(client: TestClient, api: Any) -> None:
    key = new_key(api)
    t = Recording(client)
    with OptiLoop(
        "http://testserver", client_id=key["id"], client_secret=key["key"], transport=t, env={}
    ) as ol:
        ol.projects.list()
        ol._http.auth._expires_at = 0.0  # type: ignore[union-attr]
        ol.projects.list()
    assert [p for p, _ in t.calls].count("/v1/auth/token") == 2


def test_wrong_secret_is_an_authentication_error(client: TestClient, api: Any) -> None:
    key = new_key(api)
    t = Recording(client)
    with (
        OptiLoop(
            "http://testserver", client_id=key["id"], client_secret="olk_nope", transport=t, env={}
        ) as ol,
        pytest.raises(AuthenticationError) as e,
    ):
        ol.projects.list()
    assert e.value.code == "invalid_client" and [p for p, _ in t.calls] == ["/v1/auth/token"]


def test_half_the_credentials_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="client_secret"):
        OptiLoop("http://testserver", client_id="key_1", env={})


def test_the_async_client_uses_client_credentials_too(client: TestClient, api: Any) -> None:
    key = new_key(api)

    async def run() -> None:
        transport = httpx.ASGITransport(app=client.app)  # type: ignore[arg-type]
        async with AsyncOptiLoop(
            "http://testserver", client_id=key["id"], client_secret=key["key"], transport=transport, env={}
        ) as c:
            assert (await c.projects.create("async-token"))["id"]
            assert (await c.auth.jwks()) == {"keys": []}

    asyncio.run(run())


def test_explicit_token_call(client: TestClient, api: Any) -> None:
    key = new_key(api)
    with OptiLoop("http://testserver", transport=Recording(client), env={}) as ol:
        tok = ol.auth.token(key["id"], key["key"], scope="viewer")
    assert tok["token_type"] == "Bearer" and tok["scope"] == "viewer"
