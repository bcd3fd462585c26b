"""The SDK against the real app in-process: the whole loop, errors as the API words them, pages,
streams, and the async client doing the same."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from optiloop.client import AsyncOptiLoop, InvalidInputError, NotFoundError, OptiLoop, PermissionDeniedError

SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512.0},
    },
    "relations": ['if(region=="eu") then(payload_kb<=256.0)', "qps * payload_kb <= 1.0e6"],
}


class ViaTestClient(httpx.BaseTransport):
    """Sends the SDK's requests through Starlette's TestClient, i.e. into the app in this process."""

    def __init__(self, tc: TestClient) -> None:
        self.tc = tc

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        r = self.tc.send(request)
        headers = [(k, v) for k, v in r.headers.multi_items() if k.lower() != "content-encoding"]
        return httpx.Response(r.status_code, headers=headers, content=r.content)


@pytest.fixture
def sdk(client: TestClient, api: Any) -> Iterator[OptiLoop]:
    with OptiLoop("http://testserver", api.ADMIN_TOKEN, transport=ViaTestClient(client), env={}) as c:
        yield c


def test_the_loop_through_the_sdk(sdk: OptiLoop) -> None:
    project = sdk.projects.create("api-load", "load tests", budget_cents=10_000)
    pid = project["id"]
    assert sdk.projects.get(pid)["name"] == "api-load"
    sdk.constraints.add(pid, SPACE)
    assert [c["name"] for c in sdk.constraints.list(pid)["items"]] == ["base"]
    batch = sdk.tests.suggest(pid, batch_size=10, seed=7, generator="random")
    assert len(batch["tests"]) == 10
    runs = [
        {
            "test_id": t["id"],
            "status": "fail" if i == 0 else "pass",
            "duration_ms": 100,
            "failure_severity": 3 if i == 0 else 0,
            "coverage_delta": {"buckets_hit": [i, i + 100]},
        }
        for i, t in enumerate(batch["tests"])
    ]
    out = sdk.runs.ingest(pid, runs)
    assert out["accepted"] == 10 and out["rejected"] == []
    assert sdk.runs.ingest(pid, runs)["duplicates"] == 10  # why ingest may be retried
    cov = sdk.coverage.get(pid)
    assert cov["unique_buckets"] == 20
    assert sdk.coverage.csv(pid).splitlines()[0]
    assert {t["id"] for t in sdk.tests.iter(pid, status="ran", page_size=3)} == {
        t["id"] for t in batch["tests"]
    }
    assert any(r["project_id"] == pid for r in sdk.audit.iter(project_id=pid, page_size=2))


def test_a_refused_input_names_the_field_and_the_reason(sdk: OptiLoop) -> None:
    pid = sdk.projects.create("typos")["id"]
    bad = {"params": SPACE["params"], "relations": ["payload <= 3"]}
    with pytest.raises(InvalidInputError) as e:
        sdk.constraints.add(pid, bad)
    assert e.value.status == 422 and e.value.code == "invalid_input"
    assert e.value.fields and all(f for f in e.value.fields)
    assert "payload_kb" in str(e.value)  # the "did you mean" travels in the message or a hint
    assert e.value.request_id
    with pytest.raises(InvalidInputError) as e2:
        sdk.tests.suggest(pid, batch_size=0)
    assert e2.value.reason_for("body.batch_size")
    with pytest.raises(NotFoundError):
        sdk.projects.get("prj_nope")


def test_a_viewer_key_is_refused_as_permission_denied(sdk: OptiLoop, client: TestClient) -> None:
    pid = sdk.projects.create("ro")["id"]
    key = sdk.keys.create("vera", "viewer", project_id=pid)["key"]
    with OptiLoop("http://testserver", key, transport=ViaTestClient(client), env={}) as viewer:
        assert viewer.projects.get(pid)["id"] == pid
        with pytest.raises(PermissionDeniedError):
            viewer.constraints.add(pid, SPACE)


def test_listings_page_until_the_end(sdk: OptiLoop) -> None:
    ids = {sdk.projects.create(f"p{i}")["id"] for i in range(5)}
    walked = [p["id"] for p in sdk.projects.iter(page_size=2)]  # three pages: 2, 2, 1
    assert sorted(walked) == sorted(ids) and len(walked) == 5
    page = sdk.projects.list(limit=2)
    assert len(page["items"]) == 2 and page["next_after_id"] == page["items"][-1]["id"]


def test_a_streamed_suggestion_arrives_line_by_line(sdk: OptiLoop) -> None:
    pid = sdk.projects.create("stream")["id"]
    sdk.constraints.add(pid, SPACE)
    lines = list(sdk.tests.suggest_stream(pid, batch_size=30, seed=1))
    assert all("test" in x for x in lines[:-1]) and len(lines) == 31
    assert lines[-1]["done"]["count"] == 30


def test_the_async_client_runs_the_same_loop(client: TestClient, api: Any) -> None:
    app = client.app

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with AsyncOptiLoop("http://testserver", api.ADMIN_TOKEN, transport=transport, env={}) as c:
            pid = (await c.projects.create("async"))["id"]
            await c.constraints.add(pid, SPACE)
            batch = await c.tests.suggest(pid, batch_size=4, seed=3)
            runs = [{"test_id": t["id"], "status": "pass"} for t in batch["tests"]]
            assert (await c.runs.ingest(pid, runs))["accepted"] == 4
            assert (await c.coverage.get(pid))["project_id"] == pid
            assert [t["id"] async for t in c.tests.iter(pid, page_size=3)] == [
                t["id"] for t in batch["tests"]
            ]
            streamed = [x async for x in c.tests.suggest_stream(pid, batch_size=3, seed=4)]
            assert streamed[-1]["done"]["count"] == 3
            with pytest.raises(InvalidInputError) as e:
                await c.constraints.add(pid, {"params": {"x": {"type": "integer", "min": 5, "max": 1}}})
            assert e.value.fields

    asyncio.run(run())
