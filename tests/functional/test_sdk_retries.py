"""Retries against the real app: a transport in front of it refuses first (429 or a contended 409,
each with Retry-After), then lets the request through; the write happens exactly once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from optiloop.client import AsyncOptiLoop, OptiLoop, RetryPolicy, ServerError


def _refusal(status: int, code: str) -> httpx.Response:
    body = {"error": {"code": code, "message": code, "details": [], "request_id": "req_x"}}
    return httpx.Response(status, json=body, headers={"Retry-After": "1"})


class RefusesFirst(httpx.BaseTransport):
    """Answers the first `n` requests with `refusal`, then passes requests to the app."""

    def __init__(self, tc: TestClient, refusal: httpx.Response, n: int = 1) -> None:
        self.tc, self.refusal, self.left = tc, refusal, n
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if self.left:
            self.left -= 1
            r = self.refusal
            return httpx.Response(r.status_code, headers=r.headers, content=r.content)
        answer = self.tc.send(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def _sdk(transport: httpx.BaseTransport, api: Any, sleeps: list[float]) -> OptiLoop:
    return OptiLoop(
        "http://testserver",
        api.ADMIN_TOKEN,
        transport=transport,
        retry=RetryPolicy(rng=random.Random(1)),
        sleep=sleeps.append,
        env={},
    )


@pytest.mark.parametrize(("status", "code"), [(429, "too_many_requests"), (409, "contended")])
def test_a_refused_create_is_resent_after_retry_after_and_written_once(
    client: TestClient, api: Any, status: int, code: str
) -> None:
    t = RefusesFirst(client, _refusal(status, code))
    sleeps: list[float] = []
    with _sdk(t, api, sleeps) as sdk:
        project = sdk.projects.create("retried")
        assert t.seen == ["POST /v1/projects", "POST /v1/projects"]
        assert len(sleeps) == 1 and sleeps[0] >= 1.0
        assert [p["id"] for p in sdk.projects.iter() if p["name"] == "retried"] == [project["id"]]


def test_a_server_error_on_suggest_is_not_resent(client: TestClient, api: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    t = RefusesFirst(client, httpx.Response(503, json={"error": {"code": "unavailable", "message": "x"}}))
    with _sdk(t, api, []) as sdk:
        with pytest.raises(ServerError):
            sdk.tests.suggest(pid, batch_size=3)
        assert len(t.seen) == 1
        assert sdk.tests.list(pid)["items"] == []  # nothing was planned behind the caller's back


def test_a_lost_ingest_answer_is_resent_and_counted_once(client: TestClient, api: Any) -> None:
    pid = api.project()
    (tid,) = api.add_tests(pid, 1)

    class LosesFirstAnswer(RefusesFirst):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = self.tc.send(request)  # the server acts...
            if self.left:
                self.left -= 1
                raise httpx.ReadTimeout("the answer was lost", request=request)  # ...the client never hears
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    t = LosesFirstAnswer(client, _refusal(500, "x"))
    with _sdk(t, api, []) as sdk:
        out = sdk.runs.ingest(pid, [{"test_id": tid, "status": "pass"}])
    assert (
        out["duplicates"] == 1 and out["accepted"] == 0
    )  # the first send was applied, the resend recognised


def test_async_retries_match(client: TestClient, api: Any) -> None:
    app = client.app
    sleeps: list[float] = []

    class AsyncRefusesFirst(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            self.left = 1

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.left:
                self.left -= 1
                r = _refusal(409, "contended")
                return httpx.Response(r.status_code, headers=r.headers, content=r.content)
            return await self.inner.handle_async_request(request)

    async def sleep(s: float) -> None:
        sleeps.append(s)

    async def run() -> str:
        async with AsyncOptiLoop(
            "http://testserver", api.ADMIN_TOKEN, transport=AsyncRefusesFirst(), sleep=sleep, env={}
        ) as c:
            return str((await c.projects.create("async-retried"))["name"])

    assert asyncio.run(run()) == "async-retried" and len(sleeps) == 1
