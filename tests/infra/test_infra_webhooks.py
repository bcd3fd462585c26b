"""Webhooks on AWS: their routes and own HTTP function, the dispatcher on a one-minute EventBridge rule,
events:PutEvents on the default bus for the dispatcher alone, and the emitters' outbox switch."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, flat, logical_id_of, resources_for, statements
from infra_cdk.routes import HTTP_GROUPS, ROUTES
from infra_cdk.schedules import WEBHOOK_TICK_MINUTES

HTTP = "functions.webhooks.handler.handler"
DISPATCH = "functions.webhook_dispatch.handler.handler"
EMITTERS = ("functions.ingest.handler.handler", "functions.ingest_queue.handler.handler",
            "functions.suggest.handler.handler")  # fmt: skip


def functions(synth: Any, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for f in synth.resources(tenant, "AWS::Lambda::Function").values()
    }


def role_statements(synth: Any, handler: str, tenant: str = "acme") -> list[dict[str, Any]]:
    return statements(synth.templates[tenant], logical_id_of(functions(synth, tenant)[handler]["Role"]))


def test_webhook_routes_are_served_by_their_own_function() -> None:
    assert "webhooks" in HTTP_GROUPS
    mine = {(r.method, r.path) for r in ROUTES if r.group == "webhooks"}
    assert mine == {
        ("POST", "/v1/projects/{project_id}/webhooks"),
        ("GET", "/v1/projects/{project_id}/webhooks"),
        ("GET", "/v1/webhooks/{webhook_id}"),
        ("DELETE", "/v1/webhooks/{webhook_id}"),
        ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
        ("POST", "/v1/webhooks/{webhook_id}/ping"),
    }


def test_the_dispatcher_runs_every_minute(synth: Any) -> None:
    resources = synth.templates["acme"]["Resources"]
    [props] = [
        r["Properties"]
        for r in synth.resources("acme", "AWS::Events::Rule").values()
        if resources[logical_id_of(r["Properties"]["Targets"][0]["Arn"])]["Properties"]["Handler"] == DISPATCH
    ]
    assert (
        props["ScheduleExpression"] == f"rate({WEBHOOK_TICK_MINUTES} minute)" and props["State"] == "ENABLED"
    )
    assert props["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 1
    fn = functions(synth)[DISPATCH]
    assert fn["Timeout"] == 120 and functions(synth)[HTTP]["Timeout"] <= 29


def test_only_the_dispatcher_may_put_events_and_only_on_the_default_bus(synth: Any) -> None:
    for handler in functions(synth):
        puts = list(resources_for(role_statements(synth, handler), "events:"))
        if handler != DISPATCH:
            assert puts == [], handler
            continue
        [(action, bus)] = puts
        assert action == "events:PutEvents" and flat(bus).endswith(":event-bus/default"), flat(bus)


def test_emitters_and_the_dispatcher_keep_events_for_the_bus(synth: Any) -> None:
    fns = functions(synth)
    for handler in (*EMITTERS, DISPATCH):
        assert fns[handler]["Environment"]["Variables"]["OPTILOOP_EVENT_BUS"] == "default", handler
    assert "OPTILOOP_EVENT_BUS" not in fns[HTTP]["Environment"]["Variables"]


def test_webhook_functions_touch_no_artifacts_and_never_scan(synth: Any) -> None:
    for handler in (HTTP, DISPATCH):
        granted = actions(role_statements(synth, handler))
        assert not any(a.startswith("s3:") for a in granted), handler
        assert "dynamodb:Scan" not in granted and "dynamodb:PutItem" in granted, handler
