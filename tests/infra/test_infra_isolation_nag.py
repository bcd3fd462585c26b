"""Tenants share nothing, and the AwsSolutions checks pass with every exception explained."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra_cdk.tenant import TenantConfig, TenantError, validate_tenant

NAME_KEYS = re.compile(
    r"^(TableName|BucketName|FunctionName|QueueName|TopicName|StateMachineName|DashboardName|AliasName"
    r"|RoleName|LogGroupName|Name|RuleName|ManagedPolicyName|LayerName|RestApiName|StageName"
    r"|DisplayName)$"
)
# Names that live inside a tenant's own resource (the stage and model of its REST API); inline
# policy names (PolicyName) are scoped to their role and are left out of NAME_KEYS for that reason.
SHARED_BY_DESIGN = {"prod", "JsonObject"}


def explicit_names(template: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(resource, property, value) for every literal physical name set in the template."""
    for lid, res in template["Resources"].items():
        for key, value in (res.get("Properties") or {}).items():
            if NAME_KEYS.match(key) and isinstance(value, str):
                yield lid, key, value


def test_tenants_share_no_physical_names(synth: Any) -> None:
    a = {v for _, _, v in explicit_names(synth.templates["acme"])} - SHARED_BY_DESIGN
    b = {v for _, _, v in explicit_names(synth.templates["globex"])} - SHARED_BY_DESIGN
    assert a and b
    assert not a & b
    for tenant in ("acme", "globex"):
        for lid, key, value in explicit_names(synth.templates[tenant]):
            if value not in SHARED_BY_DESIGN:
                assert tenant in value, (tenant, lid, key, value)


def test_each_tenant_is_its_own_stack(synth: Any) -> None:
    names = {t: s.stack.stack_name for t, s in synth.stages.items()}
    assert names == {"acme": "optiloop-acme", "globex": "optiloop-globex"}


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Any) -> None:
    assert synth.findings == [], "\n".join(map(str, synth.findings))


def test_every_acknowledgement_has_a_specific_reason(synth: Any) -> None:
    rules = {rule for per_path in synth.acks.values() for rule in per_path}
    assert rules, "the app acknowledges nothing? then the plugin probably did not run"
    # SMG4 (no rotation Lambda): the token signing secret rotates in two manual steps (docs/auth.md)
    # CFR1-4 (geo restriction, WAF, standard logs, TLS floor of the default certificate): the console's
    # distribution, each with its reason in infra_cdk/console.py
    allowed = re.compile(r"^AwsSolutions-(IAM4|IAM5|L1|APIG3|APIG4|COG4|SMG4|CFR1|CFR2|CFR3|CFR4)(\[.+\])?$")
    for path, per_rule in synth.acks.items():
        for rule, reason in per_rule.items():
            assert allowed.match(rule), f"new kind of exception {rule} at {path}: review it"
            assert len(reason) >= 60 and reason[0].isupper(), (path, rule, reason)


def test_the_checks_do_catch_a_violation() -> None:
    """Guards against a silently inert plugin: a plain bucket must fail the same pack."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = App()
    s3.Bucket(Stack(app, "Probe"), "Plain")
    report = AwsSolutionsChecks().validate_scope(app)
    assert not report.success
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= {v.rule_name for v in report.violations}


@pytest.mark.parametrize(
    "bad", ["", "ab", "Acme", "acme_corp", "-acme", "acme-", "a" * 21, "acme corp", None]
)
def test_tenant_names_are_validated(bad: Any) -> None:
    with pytest.raises(TenantError):
        validate_tenant(bad)


def test_tenant_config_from_context() -> None:
    ctx = {"tenant": "acme-2", "api_rate_limit": "20", "alarm_email": "ops@example.com"}
    config = TenantConfig.from_context(ctx.get)
    assert (config.tenant, config.api_rate_limit, config.prefix) == ("acme-2", 20, "optiloop-acme-2")
    with pytest.raises(TenantError, match="api_rate_limit"):
        TenantConfig.from_context({"tenant": "acme", "api_rate_limit": "fast"}.get)
    with pytest.raises(TenantError, match="required"):
        TenantConfig.from_context({}.get)


def test_app_refuses_to_synthesize_without_a_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    from infra_cdk.app import main

    assert main([]) == 2
    assert "tenant" in capsys.readouterr().err


def test_no_acknowledgement_is_stale(synth: Any) -> None:
    """Built again without acknowledgements, the app's raw findings are exactly the acknowledged ones."""
    from cdk_nag import AwsSolutionsChecks

    from infra_cdk.app import build_app
    from infra_cdk.nag import recording

    with recording() as would_ack:
        app, _ = build_app([TenantConfig("acme")], context={"optiloop:layers": "placeholder"})
    report = AwsSolutionsChecks().validate_scope(app)
    findings = {(r.construct_path, v.rule_name) for v in report.violations for r in v.violating_resources}

    def covers(ack: tuple[str, str], finding: tuple[str, str]) -> bool:
        return ack[1] == finding[1] and (finding[0] + "/").startswith(ack[0] + "/")

    assert [f for f in findings if not any(covers(a, f) for a in would_ack)] == []
    assert [a for a in would_ack if not any(covers(a, f) for f in findings)] == []


def test_synth_fails_on_warnings_too(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """CDK itself lets warning-level findings through once anything is acknowledged; make synth must not."""
    import json

    from infra_cdk import app as entry
    from infra_cdk.nag import REPORT_FILE, read_findings

    report = {
        "pluginReports": [
            {
                "pluginName": "AwsSolutions",
                "violations": [
                    {
                        "ruleName": "AwsSolutions-DDB3",
                        "severity": "warning",
                        "description": "no PITR",
                        "violatingConstructs": [{"constructPath": "acme/OptiLoop/Data/Table/Resource"}],
                    }
                ],
            }
        ]
    }
    (tmp_path / REPORT_FILE).write_text(json.dumps(report))
    [finding] = read_findings(tmp_path)
    assert (finding.rule, finding.severity) == ("AwsSolutions-DDB3", "warning")

    monkeypatch.setattr(entry, "build_app", lambda *a, **k: (object(), {}))
    monkeypatch.setattr(entry, "synth_and_check", lambda app: (tmp_path, [finding]))
    assert entry.main(["-c", "tenant=acme"]) == 1
    assert "AwsSolutions-DDB3" in capsys.readouterr().err
