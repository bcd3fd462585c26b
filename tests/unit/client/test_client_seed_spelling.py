"""`Client(base_url=..., token=...)`, the AutoML seed's spelling, is the blocking client with the token
as its credential: the same requests, the same Authorization header."""

from __future__ import annotations

import json

import httpx
import pytest

from optiloop.client import Client, OptiLoop


def test_the_seed_spelling_sends_the_token_and_the_seed_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"experiment_id": "exp_1", "status": "created"})

    client = Client(
        base_url="http://api.test", token="tok-0123456789abcdef", transport=httpx.MockTransport(answer)
    )
    assert isinstance(client, OptiLoop)
    exp = client.experiments.create(
        project_id="prj_1", task_type="forecasting", dataset_id="ds_1", target="sales",
        config={"budget_s": 60},
    )  # fmt: skip
    assert exp["experiment_id"] == "exp_1"
    [req] = seen
    assert req.headers["authorization"] == "Bearer tok-0123456789abcdef"
    assert (req.method, req.url.path) == ("POST", "/v1/experiments")
    body = json.loads(req.content)
    assert body == {
        "project_id": "prj_1",
        "task_type": "forecasting",
        "dataset_id": "ds_1",
        "target": "sales",
        "config": {"budget_s": 60},
    }  # fmt: skip  (no objective: forecasting defaults to MASE)


def test_two_different_credentials_are_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        Client(base_url="http://api.test", token="a" * 20, api_key="b" * 20)
