"""How many DynamoDB calls a warm tests:suggest makes through the Lambda handler (issue 8 §4: <= 8).

Each call is a round trip (single-digit ms in region, far more than the handler's own work at small
batches), so the count is part of suggest's latency budget. It is counted with a botocore event
hook on the suggest function's own DynamoDB client, in a loop of suggest -> ingest as a runner
drives it (the ingest function has its own client, as its own Lambda would).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from events.harness import ADMIN_TOKEN, deployment, invoke, load_event, load_handlers, response_body

MAX_CALLS = 8  # the API key lookup included


@pytest.fixture
def aws_handlers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    with deployment(monkeypatch, tmp_path, backend="aws"):
        yield load_handlers(["projects", "suggest", "ingest"])


def _call(handlers: dict[str, ModuleType], function: str, event: dict[str, Any]) -> Any:
    r = invoke(handlers[function].handler, event, function)
    assert r["statusCode"] < 300, r.get("body")
    return response_body(r)


def test_a_warm_suggest_makes_at_most_eight_dynamodb_calls(aws_handlers: dict[str, ModuleType]) -> None:
    h = aws_handlers
    pid = _call(h, "projects", load_event("projects_create", token=ADMIN_TOKEN))["id"]
    admin = {"token": ADMIN_TOKEN, "project_id": pid}
    _call(h, "projects", load_event("constraints_create", **admin))
    key = _call(h, "projects", load_event("keys_create", **admin))["key"]
    runner = {"token": key, "project_id": pid}

    calls: list[str] = []
    client = h["suggest"].app.state.deps.store.table.client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    per_suggest = []
    for i in range(4):
        calls.clear()
        batch = _call(h, "suggest", load_event("tests_suggest", **runner))
        per_suggest.append(list(calls))
        runs = [
            {
                "test_id": t["id"],
                "status": "pass",
                "cost_cents": 1.0,
                "coverage_delta": {"buckets_hit": [i, n]},
            }
            for n, t in enumerate(batch["tests"])
        ]
        event = load_event("runs_ingest", **runner, test_id_0="x", test_id_1="x", test_id_2="x")
        event["body"] = json.dumps({"runs": runs})
        assert _call(h, "ingest", event)["accepted"] == len(runs)
    warm = per_suggest[1:]  # the first one reads the history and the audit anchor for the first time
    assert all(len(c) <= MAX_CALLS for c in warm), warm
    # what they are: the key, project + both counters, the space, the new runs, the uniqueness
    # check, the commit's counters and audit head, the commit
    assert warm[-1] == [
        "GetItem",
        "BatchGetItem",
        "Query",
        "Query",
        "BatchGetItem",
        "BatchGetItem",
        "TransactWriteItems",
    ], warm[-1]
