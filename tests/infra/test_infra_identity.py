"""A Cognito user pool per tenant for the people who sign in to the console: invite-only, MFA,
threat protection, one group per role, and a public app client that may only run code + PKCE."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cfn_fake import logical_id_of

TENANTS = ("acme", "globex")


def test_each_tenant_has_its_own_hardened_pool(synth: Any) -> None:
    names = set()
    for tenant in TENANTS:
        _, pool = synth.one(tenant, "AWS::Cognito::UserPool")
        props = pool["Properties"]
        names.add(props["UserPoolName"])
        assert props["UserPoolName"] == f"optiloop-{tenant}-people"
        assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
        assert props["MfaConfiguration"] == "ON" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
        assert props["UserPoolTier"] == "PLUS"
        assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
        policy = props["Policies"]["PasswordPolicy"]
        assert policy["MinimumLength"] >= 14 and all(
            policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
        )
        assert props["DeletionProtection"] == "ACTIVE" and pool["DeletionPolicy"] == "Retain"
    assert len(names) == len(TENANTS)  # never shared


def test_roles_are_groups_of_the_tenants_own_pool(synth: Any) -> None:
    for tenant in TENANTS:
        pool_id, _ = synth.one(tenant, "AWS::Cognito::UserPool")
        groups = synth.resources(tenant, "AWS::Cognito::UserPoolGroup").values()
        assert sorted(g["Properties"]["GroupName"] for g in groups) == [
            "optiloop-admin",
            "optiloop-contributor",
            "optiloop-owner",
            "optiloop-viewer",
        ]
        assert {logical_id_of(g["Properties"]["UserPoolId"]) for g in groups} == {pool_id}


def test_the_console_client_is_public_and_code_with_pkce_only(synth: Any) -> None:
    for tenant in TENANTS:
        pool_id, _ = synth.one(tenant, "AWS::Cognito::UserPool")
        _, client = synth.one(tenant, "AWS::Cognito::UserPoolClient")
        props = client["Properties"]
        assert logical_id_of(props["UserPoolId"]) == pool_id
        assert props["GenerateSecret"] is False
        assert props["AllowedOAuthFlows"] == ["code"] and props["AllowedOAuthFlowsUserPoolClient"] is True
        assert set(props["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
        assert props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password flows
        served, static = props["CallbackURLs"]  # optiloop serve's callback, the S3 console's page
        assert served.endswith("/console/oidc/callback")
        assert static == {
            "Fn::Join": [
                "",
                [
                    "https://",
                    {"Fn::GetAtt": [synth.one(tenant, "AWS::CloudFront::Distribution")[0], "DomainName"]},
                    "/",
                ],
            ]
        }
        assert props["PreventUserExistenceErrors"] == "ENABLED" and props["EnableTokenRevocation"] is True
        outputs = json.dumps(synth.templates[tenant].get("Outputs", {}))
        assert "cognito-idp" in outputs  # the issuer an operator sets as OPTILOOP_OIDC_ISSUER


def test_the_oidc_settings_map_the_pools_groups_to_roles() -> None:
    from aws_cdk import App, Environment, Stack

    from infra_cdk.identity import ConsoleUserPool

    stack = Stack(App(), "T", env=Environment(account="123456789012", region="eu-west-1"))
    env = ConsoleUserPool(
        stack, "People", prefix="optiloop-t", console_url="https://c.example"
    ).oidc_environment()
    assert env["OPTILOOP_OIDC_ROLE_CLAIM"] == "cognito:groups"
    assert json.loads(env["OPTILOOP_OIDC_ROLES"]) == {
        "optiloop-viewer": "viewer",
        "optiloop-contributor": "contributor",
        "optiloop-admin": "admin",
        "optiloop-owner": "owner",
    }
    assert "cognito-idp.eu-west-1.amazonaws.com" in env["OPTILOOP_OIDC_ISSUER"]


@pytest.mark.parametrize("url", ["http://console.example", "javascript:alert(1)", "https://a b"])
def test_a_console_url_that_cannot_be_a_callback_is_refused(url: str) -> None:
    from infra_cdk.tenant import TenantConfig, TenantError

    with pytest.raises(TenantError, match="console_url"):
        TenantConfig("acme", console_url=url)


def test_the_authorizer_and_every_http_function_trust_only_their_own_tenants_pool(synth: Any) -> None:
    """The pool's ID tokens are accepted at the edge and behind it; the issuer and audience are this
    tenant's pool and client (another tenant's token names another issuer and is refused)."""
    from infra_cdk.routes import HTTP_GROUPS

    for tenant in TENANTS:
        pool_id, _ = synth.one(tenant, "AWS::Cognito::UserPool")
        client_id, _ = synth.one(tenant, "AWS::Cognito::UserPoolClient")
        handlers = {f"functions.{g}.handler.handler" for g in ("authorizer", *HTTP_GROUPS)}
        fns = {
            f["Properties"]["Handler"]: f["Properties"]
            for f in synth.resources(tenant, "AWS::Lambda::Function").values()
        }
        trusting = {h for h, p in fns.items() if "OPTILOOP_OIDC_ISSUER" in p["Environment"]["Variables"]}
        assert {h.split(".")[1] for h in handlers} <= {h.split(".")[1] for h in trusting}, trusting
        for handler in trusting:
            env = fns[handler]["Environment"]["Variables"]
            assert pool_id in json.dumps(env["OPTILOOP_OIDC_ISSUER"])
            assert logical_id_of(env["OPTILOOP_OIDC_AUDIENCE"]) == client_id
            assert env["OPTILOOP_OIDC_ROLE_CLAIM"] == "cognito:groups"
        # scheduled and queue functions take no tokens at all
        assert not any(k in trusting for k in fns if "ingest_queue" in k or "webhook_dispatch" in k)
