"""The access-token signing secret: one per tenant, readable by exactly the functions that verify
tokens (the authorizer and the HTTP functions), passed as an ARN, never as a value."""

from __future__ import annotations

import json
from typing import Any

from cfn_fake import actions, logical_id_of, statements
from infra_cdk.routes import HTTP_GROUPS

VERIFIERS = {"functions.authorizer.handler.handler"} | {f"functions.{g}.handler.handler" for g in HTTP_GROUPS}


def test_only_token_verifiers_read_the_signing_secret(synth: Any) -> None:
    for tenant in ("acme", "globex"):
        [(secret_id, secret)] = [
            (k, v)
            for k, v in synth.resources(tenant, "AWS::SecretsManager::Secret").items()
            if "TokenSecret" in k
        ]
        assert "KmsKeyId" in secret["Properties"]  # under the tenant key
        for f in synth.resources(tenant, "AWS::Lambda::Function").values():
            props = f["Properties"]
            env = props["Environment"]["Variables"]
            stmts = statements(synth.templates[tenant], logical_id_of(props["Role"]))
            reads = [s for s in stmts if secret_id in json.dumps(s.get("Resource", ""))]
            if props["Handler"] in VERIFIERS:
                assert logical_id_of(env["OPTILOOP_TOKEN_SECRET_ARN"]) == secret_id, props["Handler"]
                assert "secretsmanager:GetSecretValue" in actions(reads)
                assert "OPTILOOP_TOKEN_SECRET" not in env  # the value never sits in the environment
            else:
                assert "OPTILOOP_TOKEN_SECRET_ARN" not in env and not reads, props["Handler"]


def test_token_routes_are_public_and_on_the_projects_function(synth: Any) -> None:
    from infra_cdk.routes import ROUTES

    public = {(r.method, r.path): r.group for r in ROUTES if r.public}
    assert public == {
        ("GET", "/v1/healthz"): "projects",
        ("POST", "/v1/auth/token"): "projects",
        ("GET", "/.well-known/jwks.json"): "projects",
    }
