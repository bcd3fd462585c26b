"""The model registry's infrastructure: its own function, least privilege on models/, its routes."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, flat, logical_id_of, resources_for, statements, without_token_secret
from infra_cdk.routes import ROUTES

HANDLER = "functions.models.handler.handler"


def _functions(synth: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        f["Properties"]["Handler"]: (lid, f["Properties"])
        for lid, f in synth.resources("acme", "AWS::Lambda::Function").items()
    }


def _role(synth: Any) -> list[dict[str, Any]]:
    _, props = _functions(synth)[HANDLER]
    return statements(synth.templates["acme"], logical_id_of(props["Role"]))


def test_the_registry_has_its_own_function(synth: Any) -> None:
    fns = _functions(synth)
    assert HANDLER in fns
    _, props = fns[HANDLER]
    assert props["MemorySize"] == 1024 and props["Timeout"] <= 29


def test_it_reads_and_writes_only_the_models_prefix_and_calls_no_model(synth: Any) -> None:
    stmts = _role(synth)
    acts = actions(stmts)
    others = actions(without_token_secret(stmts))
    assert not {a for a in others if a.startswith(("bedrock:", "secretsmanager:", "iam:"))}
    # SageMaker: only the model package mirror (test_infra_serving checks its resources), no endpoints
    assert {a for a in acts if a.startswith("sagemaker:")} <= {
        "sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage",
        "sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage",
    }  # fmt: skip
    assert "dynamodb:Scan" not in acts and not any(a.endswith("*") for a in acts)
    s3 = list(resources_for(stmts, "s3:"))
    objects = {(a, flat(r)) for a, r in s3 if a in ("s3:GetObject", "s3:PutObject")}
    assert {a for a, _ in objects} == {"s3:GetObject", "s3:PutObject"}
    # AutoML trials' artifacts are read (registered from a trial), never written
    readable = ("/models/*", "/automl/*")
    assert all(r.endswith(readable if a == "s3:GetObject" else "/models/*") for a, r in objects), objects
    assert "s3:DeleteObject" not in acts  # versions are immutable: nothing here deletes an artifact


def test_registry_and_lineage_routes_go_to_it_and_policies_to_approvals(synth: Any) -> None:
    groups = {(r.method, r.path): r.group for r in ROUTES}
    assert groups[("POST", "/v1/models")] == "models"
    assert groups[("POST", "/v1/models/{model_id}/versions/{version}/promote")] == "models"
    assert groups[("GET", "/v1/lineage/{entity_type}/{entity_id}")] == "models"
    assert groups[("POST", "/v1/policies")] == "approvals"
    assert groups[("GET", "/v1/projects/{project_id}/policies")] == "approvals"  # deprecated, still served
    upload = next(r for r in ROUTES if r.path.endswith("versions:upload"))
    assert not upload.has_body  # a gzip body: the gateway must not check it against a JSON model


def test_the_api_passes_gzip_uploads_as_bytes(synth: Any) -> None:
    [(_, api)] = synth.resources("acme", "AWS::ApiGateway::RestApi").items()
    assert "application/gzip" in api["Properties"]["BinaryMediaTypes"]
