"""Connectors on AWS: their routes and own HTTP function, and Secrets Manager rights scoped to the
tenant's prefix — the connectors function writes connector credentials, the automl function (ingest)
reads them and makes PII hashing keys, and no other function touches either."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, as_list, flat, logical_id_of, statements
from infra_cdk.routes import HTTP_GROUPS, ROUTES

CONNECTORS = "functions.connectors.handler.handler"
AUTOML = "functions.automl.handler.handler"


def functions(synth: Any, tenant: str = "acme") -> dict[str, dict[str, Any]]:
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for f in synth.resources(tenant, "AWS::Lambda::Function").values()
    }


def secret_grants(synth: Any, handler: str, tenant: str) -> dict[str, set[str]]:
    """Secrets Manager action -> the connector and PII-key secret names it is granted on."""
    role = logical_id_of(functions(synth, tenant)[handler]["Role"])
    out: dict[str, set[str]] = {}
    for s in statements(synth.templates[tenant], role):
        resources = [flat(r) for r in as_list(s.get("Resource"))]
        if not any(
            ":secret:optiloop/" in r and r.endswith(("/connectors/*", "/pii-hash/*")) for r in resources
        ):
            continue  # the token-signing and model-provider secrets are checked elsewhere
        for a in actions([s]):
            if a.startswith("secretsmanager:"):
                out.setdefault(a, set()).update(r.split(":secret:")[1] for r in resources)
    return out


def test_connector_routes_are_served_by_their_own_function() -> None:
    assert "connectors" in HTTP_GROUPS
    mine = {(r.method, r.path) for r in ROUTES if r.group == "connectors"}
    assert mine == {
        ("POST", "/v1/connectors"),
        ("GET", "/v1/connectors"),
        ("GET", "/v1/connectors/{connector_id}"),
        ("DELETE", "/v1/connectors/{connector_id}"),
    }
    assert [r.group for r in ROUTES if r.path == "/v1/datasets/ingest"] == ["automl"]


def test_secret_rights_are_the_tenants_prefix_only(synth: Any) -> None:
    for tenant in ("acme", "globex"):
        p = f"optiloop/{tenant}"
        assert secret_grants(synth, CONNECTORS, tenant) == {
            "secretsmanager:CreateSecret": {f"{p}/connectors/*"},
            "secretsmanager:PutSecretValue": {f"{p}/connectors/*"},
            "secretsmanager:DeleteSecret": {f"{p}/connectors/*"},
        }
        assert secret_grants(synth, AUTOML, tenant) == {
            "secretsmanager:GetSecretValue": {f"{p}/connectors/*", f"{p}/pii-hash/*"},
            "secretsmanager:CreateSecret": {f"{p}/pii-hash/*"},
            "secretsmanager:PutSecretValue": {f"{p}/pii-hash/*"},
        }
        for handler, props in functions(synth, tenant).items():
            variables = props["Environment"]["Variables"]
            if handler in (CONNECTORS, AUTOML):
                assert variables["OPTILOOP_SECRETS_PREFIX"] == p
            else:
                assert secret_grants(synth, handler, tenant) == {}, handler
                assert "OPTILOOP_SECRETS_PREFIX" not in variables


def test_the_connectors_function_reads_no_bucket(synth: Any) -> None:
    props = functions(synth)[CONNECTORS]
    role = logical_id_of(props["Role"])
    assert not {a for a in actions(statements(synth.templates["acme"], role)) if a.startswith("s3:")}
    assert props["Timeout"] <= 29 and props["MemorySize"] == 512


def test_only_ingest_may_assume_connector_roles(synth: Any) -> None:
    for handler, props in functions(synth).items():
        stmts = statements(synth.templates["acme"], logical_id_of(props["Role"]))
        assumed = [flat(r) for s in stmts if "sts:AssumeRole" in actions([s]) for r in as_list(s["Resource"])]
        if handler == AUTOML:
            assert assumed == ["arn:<AWS::Partition>:iam::*:role/optiloop-connector-*"]
        else:
            assert assumed == [], handler
