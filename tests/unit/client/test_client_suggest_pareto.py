"""The SDK sends tests:suggest's `pareto` as the API takes it (true, or the object), and only when given."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from optiloop.client import OptiLoop, RetryPolicy


def _sent(**kwargs: Any) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def handle(r: httpx.Request) -> httpx.Response:
        seen.append(json.loads(r.content))
        return httpx.Response(200, json={"tests": []})

    c = OptiLoop(
        "http://api.test", "k" * 20, transport=httpx.MockTransport(handle), retry=RetryPolicy(attempts=1)
    )
    c.tests.suggest("prj_1", batch_size=5, **kwargs)
    return seen[0]


@pytest.mark.parametrize(
    ("pareto", "body"),
    [
        (True, True),
        (
            {"objectives": ["cost", "flakiness"], "select": "crowding"},
            {"objectives": ["cost", "flakiness"], "select": "crowding"},
        ),
    ],
)
def test_pareto_is_sent_as_given(pareto: Any, body: Any) -> None:
    assert _sent(pareto=pareto)["pareto"] == body


def test_no_pareto_key_unless_asked() -> None:
    assert "pareto" not in _sent()
