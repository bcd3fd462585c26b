"""Every client method sends the operation its row in OPERATIONS names (method and path), so the
table the OpenAPI comparison reads is the truth about what the client does."""

from __future__ import annotations

import asyncio
import inspect
import re
import typing
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from optiloop.client import OPERATIONS, AsyncOptiLoop, OptiLoop, RetryPolicy


def _value(annotation: Any, name: str) -> Any:
    """A plausible argument for a parameter, from its annotation."""
    text = str(annotation)
    if "Literal" in text:
        return re.findall(r"'([^']+)'", text)[0]
    if text.startswith(("Sequence", "typing.Sequence", "collections.abc.Sequence")) or "Sequence[" in text:
        return []
    if "Mapping" in text:
        return {}
    if text.startswith("bytes"):
        return b"\x1f\x8b"
    if text.startswith("int"):
        return 3
    if text.startswith("float"):
        return 1.5
    return f"{name}-1"


def _calls(client: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    for name in OPERATIONS:
        method = client
        for part in name.split("."):
            method = getattr(method, part)
        hints = typing.get_type_hints(method)
        kwargs = {
            p.name: _value(hints.get(p.name, str), p.name)
            for p in inspect.signature(method).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
        yield name, method, kwargs


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$")


def _handler(seen: list[httpx.Request]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    return handle


def test_each_sync_method_sends_its_operation() -> None:
    seen: list[httpx.Request] = []
    client = OptiLoop(
        "http://api.test",
        "k" * 20,
        transport=httpx.MockTransport(_handler(seen)),
        retry=RetryPolicy(attempts=1),
    )
    for name, method, kwargs in _calls(client):
        seen.clear()
        out = method(**kwargs)
        if isinstance(out, Iterator):
            list(out)
        op = OPERATIONS[name]
        assert len(seen) == 1, name
        assert seen[0].method == op.method, name
        assert _pattern(op.path).match(seen[0].url.path), (name, seen[0].url.path)


def test_each_async_method_sends_its_operation() -> None:
    seen: list[httpx.Request] = []

    async def run() -> None:
        async with AsyncOptiLoop(
            "http://api.test",
            "k" * 20,
            transport=httpx.MockTransport(_handler(seen)),
            retry=RetryPolicy(attempts=1),
        ) as client:
            for name, method, kwargs in _calls(client):
                seen.clear()
                out = method(**kwargs)
                if inspect.isawaitable(out):
                    await out
                else:
                    _ = [x async for x in out]
                op = OPERATIONS[name]
                assert len(seen) == 1 and seen[0].method == op.method, name
                assert _pattern(op.path).match(seen[0].url.path), (name, seen[0].url.path)

    asyncio.run(run())


@pytest.mark.parametrize(
    ("name", "kwargs", "path", "body"),
    [
        ("monitoring.run_monitor", {"monitor_id": "mon_1"}, "/v1/monitoring/monitors/mon_1:run", None),
        (
            "monitoring.acknowledge_alert",
            {"deployment_id": "dep_1", "alert_id": "al_1"},
            "/v1/monitoring/dep_1/alerts/al_1:acknowledge",
            {"comment": ""},
        ),
        (
            "inference.predict",
            {"deployment_id": "dep_1", "instances": [[1, 2]]},
            "/v1/inference/dep_1:predict",
            None,
        ),
        ("policies.put", {"project_id": "prj_1", "policy": {"name": "p"}}, "/v1/policies", None),
    ],
)
def test_custom_method_paths_and_bodies(name: str, kwargs: dict[str, Any], path: str, body: Any) -> None:
    seen: list[httpx.Request] = []
    client = OptiLoop("http://api.test", "k", transport=httpx.MockTransport(_handler(seen)))
    ns, attr = name.split(".")
    getattr(getattr(client, ns), attr)(**kwargs)
    assert seen[0].url.path == path
    if body is not None:
        assert httpx.Response(200, content=seen[0].content).json() == body


def test_uploads_and_markdown_set_their_content_types() -> None:
    seen: list[httpx.Request] = []
    client = OptiLoop("http://api.test", "k", transport=httpx.MockTransport(_handler(seen)))
    client.models.upload_version("mdl_1", b"gz", sha256="sha256:ab")
    assert (
        seen[-1].headers["content-type"] == "application/gzip"
        and seen[-1].url.params["sha256"] == "sha256:ab"
    )
    client.models.card_markdown("mdl_1", "production")
    assert seen[-1].headers["accept"] == "text/markdown"
    client.datasets.add_examples_jsonl("ds_1", [{"input": {"q": 1}}])
    assert (
        seen[-1].headers["content-type"] == "application/x-ndjson"
        and seen[-1].content == b'{"input": {"q": 1}}\n'
    )
    client.evals.run("pv_1", "ds_1", compare_to=None)
    assert b'"compare_to": null' in seen[-1].content or b'"compare_to":null' in seen[-1].content
