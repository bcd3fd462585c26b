"""The HTTP Lambdas answer exactly like `optiloop serve`, and the whole loop runs through them.

Every fixture in tests/functional/events/ is a real API Gateway REST proxy event. It goes through
the Lambda that owns its route (Mangum over the function's router subset) and, as the same HTTP
request, through a TestClient over the local runtime with all routers; both deployments start
empty, so status, content type and body must agree step by step.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from events.harness import (
    ADMIN_TOKEN,
    EVENTS,
    HTTP_FUNCTIONS,
    Ids,
    Normaliser,
    as_request,
    default_backend,
    deployment,
    invoke,
    load_event,
    load_handlers,
    logs_to_stdout,
    metric_units,
    metric_values,
    response_body,
)
from optiloop.api.app import ROUTERS, create_app
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

# read-only functions add no business metric; Powertools warns about that on every flush
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# (fixture, function owning the route), in the order a user would go round the loop
SCRIPT: list[tuple[str, str]] = [
    ("healthz", "projects"),
    ("projects_create", "projects"),
    ("projects_get_missing", "projects"),
    ("projects_get", "projects"),
    ("projects_list", "projects"),
    ("projects_patch", "projects"),
    ("constraints_create", "projects"),
    ("constraints_list", "projects"),
    ("space_get", "projects"),
    ("keys_create", "projects"),
    ("keys_list", "projects"),
    ("tests_suggest_no_key", "suggest"),
    ("tests_suggest", "suggest"),
    ("tests_list", "suggest"),
    ("runs_ingest_invalid", "ingest"),
    ("runs_ingest", "ingest"),
    ("runs_ingest", "ingest"),  # a runner's retry: duplicates, nothing stored twice
    ("runs_ingest_base64", "ingest"),
    ("coverage_get", "coverage"),
    ("coverage_csv", "coverage"),
    ("audit_logs", "audit"),
    ("audit_verify", "audit"),
    ("keys_revoke", "projects"),
]


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    """A fresh deployment of the five HTTP functions over one backend."""
    with deployment(monkeypatch, tmp_path):
        yield load_handlers(HTTP_FUNCTIONS)


@pytest.fixture
def routing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    """The same functions on the local backend, for tests about routing only (moto is slow to set up)."""
    with deployment(monkeypatch, tmp_path, backend="local"):
        yield load_handlers(HTTP_FUNCTIONS)


def test_every_function_mounts_only_its_routers(routing: dict[str, ModuleType]) -> None:
    handlers = routing
    everything = set(create_app(settings=Settings(backend="memory")).openapi()["paths"])
    mounted = {name: set(mod.app.openapi()["paths"]) for name, mod in handlers.items()}
    for name, mod in handlers.items():
        own = {r.path for router in mod.ROUTERS for r in ROUTERS[router].routes}
        assert mounted[name] == own, name
    assert set().union(*mounted.values()) == everything  # every route is deployed somewhere...
    assert sum(len(p) for p in mounted.values()) == len(everything)  # ...exactly once


def test_every_fixture_is_a_rest_proxy_event_and_is_used() -> None:
    files = {p.stem for p in EVENTS.glob("*.json")}
    assert files == {name for name, _ in SCRIPT}
    for name in files:
        event = json.loads((EVENTS / f"{name}.json").read_text())
        assert {
            "resource",
            "path",
            "httpMethod",
            "headers",
            "requestContext",
            "body",
            "isBase64Encoded",
        } <= set(event)
        assert event["requestContext"]["requestId"] and event["requestContext"]["stage"] == "prod"


def test_lambdas_answer_like_the_local_runtime(handlers: dict[str, ModuleType]) -> None:
    expected = {"aws": "Dynamo", "local": "Sqlite"}[default_backend()]  # DynamoDB+S3 vs SQLite
    for mod in handlers.values():
        store = mod.app.state.deps.store
        store = getattr(store, "_inner", store)  # suggest and ingest observe their store
        assert expected in type(store).__name__, (mod.__name__, type(store))
    start = random.getrandbits(40) << 16
    ids = Ids(start)
    for mod in handlers.values():  # one id sequence across the deployment, as one table would see
        mod.app.state.deps.ids = ids
    store, blobs = open_memory()
    app = create_app(Deps(store=store, blobs=blobs), Settings(backend="memory", admin_token=ADMIN_TOKEN))
    app.state.deps.ids = Ids(start)  # after the admin key bootstrap, which the Lambdas ran at import
    local = TestClient(app)
    lam_norm, loc_norm = Normaliser(), Normaliser()
    subs = {"token": ADMIN_TOKEN}
    for step, (name, function) in enumerate(SCRIPT):
        event = load_event(name, **subs)
        lam = invoke(handlers[function].handler, event, function)
        loc = local.request(**as_request(event))
        where = f"step {step} {name} via {function}"
        assert lam["statusCode"] == loc.status_code, (where, lam["body"], loc.text)
        lam_type = {k.lower(): v for k, v in lam["headers"].items()}["content-type"]
        assert lam_type == loc.headers["content-type"], where
        body = response_body(lam)
        assert lam_norm(body) == loc_norm(
            loc.json() if lam_type.startswith("application/json") else loc.text
        ), where
        if name == "projects_create":
            subs["project_id"] = body["id"]
        elif name == "keys_create":
            subs["key_id"] = body["id"]
        elif name == "tests_suggest":
            assert len(body["tests"]) == 6
            subs.update({f"test_id_{i}": t["id"] for i, t in enumerate(body["tests"])})
    # the script did what it says: a retry counted as duplicates, the chain verifies, the key is revoked
    assert body["revoked"] is True


def test_routes_of_other_functions_are_not_found(routing: dict[str, ModuleType]) -> None:
    handlers = routing
    ev = load_event("tests_suggest", token=ADMIN_TOKEN, project_id="prj_x")
    assert invoke(handlers["ingest"].handler, ev)["statusCode"] == 404
    assert invoke(handlers["suggest"].handler, load_event("healthz"))["statusCode"] == 404
    assert invoke(handlers["projects"].handler, load_event("healthz"))["statusCode"] == 200


def _call(handlers: dict[str, ModuleType], function: str, name: str, **subs: str) -> tuple[int, Any]:
    r = invoke(handlers[function].handler, load_event(name, **subs), function)
    return r["statusCode"], response_body(r)


def _outcome(params: dict[str, Any]) -> dict[str, Any]:
    """A simulated system under test: behaviour buckets from the params, big ap payloads fail."""
    buckets = [
        {"eu": 1, "us": 2, "ap": 3}[params["region"]],
        10 + params["retries"],
        20 + params["payload_kb"] // 128,
        30 + int(params["cache"]),
    ]
    fail = params["region"] == "ap" and params["payload_kb"] > 256
    return {"status": "fail" if fail else "pass", "failure_severity": 4 if fail else 0, "buckets": buckets}


def test_the_loop_runs_end_to_end_through_the_lambdas(
    handlers: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    logs_to_stdout(handlers.values())
    status, project = _call(handlers, "projects", "projects_create", token=ADMIN_TOKEN)
    assert status == 201
    pid = project["id"]
    admin = {"token": ADMIN_TOKEN, "project_id": pid}
    assert _call(handlers, "projects", "constraints_create", **admin)[0] == 201
    status, key = _call(handlers, "projects", "keys_create", **admin)
    assert status == 201 and key["project_id"] == pid
    runner = {"token": key["key"], "project_id": pid}  # a project-scoped contributor key

    seen: set[int] = set()
    failures = 0
    for _ in range(3):
        status, batch = _call(handlers, "suggest", "tests_suggest", **runner)
        assert status == 200, batch
        assert len(batch["tests"]) == 6
        runs = []
        for t in batch["tests"]:
            o = _outcome(t["params"])
            seen.update(o["buckets"])
            failures += o["status"] == "fail"
            runs.append(
                {
                    "test_id": t["id"],
                    "status": o["status"],
                    "failure_severity": o["failure_severity"],
                    "cost_cents": 1.0,
                    "coverage_delta": {"buckets_hit": o["buckets"]},
                }
            )
        event = load_event("runs_ingest", **runner, test_id_0="x", test_id_1="x", test_id_2="x")
        event["body"] = json.dumps({"runs": runs})
        r = invoke(handlers["ingest"].handler, event, "ingest")
        assert r["statusCode"] == 200, r["body"]
        assert response_body(r)["accepted"] == 6 and response_body(r)["total_buckets"] == len(seen)

    status, cov = _call(handlers, "coverage", "coverage_get", **runner)
    assert status == 200 and cov["unique_buckets"] == len(seen) and cov["tests_suggested"] == 18
    status, pending = _call(handlers, "suggest", "tests_list", **runner)
    assert status == 200 and pending["items"] == []
    status, log = _call(handlers, "audit", "audit_logs", **runner)
    assert status == 200 and log["chain_ok"] is True
    actions = [r["action"] for r in log["items"]]
    assert actions.count("tests.suggest") == 3 and actions.count("runs.ingested") == 3
    assert actions.index("project.created") < actions.index("tests.suggest") < actions.index("runs.ingested")
    assert {r["principal"] for r in log["items"] if r["action"] == "runs.ingested"} == {"runner-7"}

    out = capsys.readouterr().out
    assert metric_values(out, "SuggestBatchSize") == [6, 6, 6]
    latencies = metric_values(out, "SuggestLatency")
    assert len(latencies) == 3 and all(ms > 0 for ms in latencies)
    assert metric_values(out, "RunsIngested") == [6, 6, 6]
    assert sum(metric_values(out, "CoverageNewBuckets")) == len(seen)
    assert sum(metric_values(out, "FailuresFound")) == failures
    units = metric_units(out)
    assert units["SuggestLatency"] == "Milliseconds" and units["SuggestBatchSize"] == "Count"
    # every metric carries the tenant, so tenants sharing an account never share an alarm
    emf = [json.loads(x) for x in out.splitlines() if x.startswith("{") and '"_aws"' in x]
    assert emf and all(x.get("tenant") == "acme" for x in emf)
    assert all(
        ["service", "tenant"] in [sorted(d) for d in x["_aws"]["CloudWatchMetrics"][0]["Dimensions"]]
        for x in emf
    )
    # the correlation id of every access line is API Gateway's request id
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{") and '"message":"request"' in x]
    assert lines and all(x["correlation_id"].startswith("c6af9ac6-") for x in lines)
    assert {x["service"] for x in lines} == {"projects", "suggest", "ingest", "coverage", "audit"}


def test_metrics_count_only_what_was_written(
    handlers: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    pid = _call(handlers, "projects", "projects_create", token=ADMIN_TOKEN)[1]["id"]
    subs = {"token": ADMIN_TOKEN, "project_id": pid}
    _call(handlers, "projects", "constraints_create", **subs)
    tests = _call(handlers, "suggest", "tests_suggest", **subs)[1]["tests"]
    ids = {f"test_id_{i}": t["id"] for i, t in enumerate(tests)}
    capsys.readouterr()
    assert _call(handlers, "ingest", "runs_ingest", **subs, **ids)[0] == 200
    assert _call(handlers, "ingest", "runs_ingest", **subs, **ids)[0] == 200  # resend
    assert _call(handlers, "ingest", "runs_ingest_invalid", **subs, **ids)[0] == 422
    out = capsys.readouterr().out
    # the fixture: 3 runs accepted (one unknown test rejected), buckets {12,31,77,90}, one failure
    assert metric_values(out, "RunsIngested") == [3]
    assert metric_values(out, "CoverageNewBuckets") == [4]
    assert metric_values(out, "FailuresFound") == [1]
    assert metric_values(out, "NovelFailuresFound") == [1]
    # a suggest the budget refuses is still timed, but hands out no batch
    _call(handlers, "projects", "projects_patch", **subs)  # budget 5000
    ev = load_event("tests_suggest", **subs)
    ev["body"] = ev["body"].replace('"budget_cents": 1000', '"budget_cents": 0')
    assert invoke(handlers["suggest"].handler, ev)["statusCode"] == 409
    out = capsys.readouterr().out
    assert len(metric_values(out, "SuggestLatency")) == 1 and metric_values(out, "SuggestBatchSize") == []
