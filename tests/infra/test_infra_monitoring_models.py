"""Model monitoring on AWS: its routes and functions, the monitors' schedule, least-privilege roles
(alarm topic publish only, artifacts read-only), and the model widgets on the tenant dashboard."""

from __future__ import annotations

import json
from typing import Any

from cfn_fake import actions, flat, logical_id_of, resources_for, statements
from infra_cdk.routes import HTTP_GROUPS, ROUTES, gateway_path
from infra_cdk.schedules import MONITOR_TICK_MINUTES

HTTP = "functions.monitoring.handler.handler"
SCHEDULED = "functions.monitors.handler.handler"


def functions(synth: Any, tenant: str = "acme") -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        f["Properties"]["Handler"]: (rid, f["Properties"])
        for rid, f in synth.resources(tenant, "AWS::Lambda::Function").items()
    }


def role_statements(synth: Any, handler: str, tenant: str = "acme") -> list[dict[str, Any]]:
    _, props = functions(synth, tenant)[handler]
    return statements(synth.templates[tenant], logical_id_of(props["Role"]))


def test_monitoring_routes_are_served_by_their_own_function() -> None:
    assert "monitoring" in HTTP_GROUPS
    mine = {(r.method, r.path) for r in ROUTES if r.group == "monitoring"}
    assert mine == {
        ("POST", "/v1/monitoring/{deployment_id}/monitors"),
        ("GET", "/v1/monitoring/{deployment_id}/monitors"),
        ("GET", "/v1/monitoring/monitors/{monitor_id}"),
        ("POST", "/v1/monitoring/monitors/{monitor_id}:run"),
        ("GET", "/v1/monitoring/{deployment_id}/alerts"),
        ("POST", "/v1/monitoring/{deployment_id}/alerts/{alert_id}:acknowledge"),
        ("POST", "/v1/deployments/{deployment_id}/feedback"),
    }
    # the custom methods reach the gateway as the bare parameter's resource
    assert gateway_path("/v1/monitoring/monitors/{monitor_id}:run") == "/v1/monitoring/monitors/{monitor_id}"


def test_both_functions_exist_with_their_sizes(synth: Any) -> None:
    fns = functions(synth)
    _, http = fns[HTTP]
    _, tick = fns[SCHEDULED]
    assert http["Timeout"] == 29 and tick["Timeout"] == 300 and tick["MemorySize"] == 1769
    for props in (http, tick):
        env = props["Environment"]["Variables"]
        assert env["OPTILOOP_BACKEND"] == "aws" and "OPTILOOP_ALARM_TOPIC_ARN" in env


def test_monitors_run_every_tick_from_an_eventbridge_rule(synth: Any) -> None:
    rules = synth.resources("acme", "AWS::Events::Rule").values()
    fns = synth.templates["acme"]["Resources"]
    [rule] = [
        r
        for r in rules
        if fns[logical_id_of(r["Properties"]["Targets"][0]["Arn"])]["Properties"]["Handler"] == SCHEDULED
    ]
    props = rule["Properties"]
    assert (
        props["ScheduleExpression"] == f"rate({MONITOR_TICK_MINUTES} minutes)" and props["State"] == "ENABLED"
    )
    assert props["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 1


def test_roles_publish_only_to_the_alarm_topic_and_only_read_artifacts(synth: Any) -> None:
    [(topic_id, _)] = synth.resources("acme", "AWS::SNS::Topic").items()
    for handler in (HTTP, SCHEDULED):
        stmts = role_statements(synth, handler)
        granted = actions(stmts)
        assert "s3:PutObject" not in granted and "dynamodb:Scan" not in granted
        sns = list(resources_for(stmts, "sns:"))
        assert sns == [("sns:Publish", {"Ref": topic_id})], sns
        s3 = {flat(r) for a, r in resources_for(stmts, "s3:GetObject")}
        assert len(s3) == 1 and next(iter(s3)).endswith("/models/*"), s3
        kms_via = {
            json.dumps(s.get("Condition", {}), sort_keys=True)
            for s in stmts
            if s["Effect"] == "Allow" and any(str(a).startswith("kms:") for a in s["Action"])
        }
        assert all("kms:ViaService" in c for c in kms_via), kms_via
        assert any("sns." in c for c in kms_via)


def test_no_other_function_may_publish_model_alerts(synth: Any) -> None:
    for handler in functions(synth):
        if handler in (HTTP, SCHEDULED):
            continue
        published = [r for _, r in resources_for(role_statements(synth, handler), "sns:Publish")]
        assert published == [], handler


def test_dashboard_has_the_model_monitor_widgets(synth: Any) -> None:
    [(_, dash)] = synth.resources("acme", "AWS::CloudWatch::Dashboard").items()
    body = json.dumps(dash["Properties"]["DashboardBody"])
    for metric in (
        "ModelDriftStatistic",
        "ModelAlertsOpened",
        "ModelAlertsResolved",
        "ModelMonitorsBreached",
    ):
        assert metric in body, metric
    assert "Model drift statistic" in body and "Model alerts" in body


def test_cdk_nag_is_clean_for_the_monitoring_resources(synth: Any) -> None:
    mine = [f for f in synth.findings if "Monitor" in str(f) or "monitoring" in str(f).lower()]
    assert mine == [], "\n".join(map(str, mine))
