"""Deployments and inference on AWS: their own functions, least privilege, and the predict route."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, flat, logical_id_of, resources_for, statements, without_token_secret
from infra_cdk.routes import ROUTES, gateway_path

INFERENCE = "functions.inference.handler.handler"
DEPLOYMENTS = "functions.deployments.handler.handler"
HEAVY = ("sklearn", "xgboost", "torch", "sagemaker")


def _functions(synth: Any) -> dict[str, dict[str, Any]]:
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for f in synth.resources("acme", "AWS::Lambda::Function").values()
    }


def _role(synth: Any, handler: str) -> list[dict[str, Any]]:
    return statements(synth.templates["acme"], logical_id_of(_functions(synth)[handler]["Role"]))


def test_inference_is_its_own_function_sized_for_numpy(synth: Any) -> None:
    props = _functions(synth)[INFERENCE]
    assert props["MemorySize"] >= 1769 and props["Timeout"] <= 29  # one full vCPU for numpy
    assert props["Environment"]["Variables"]["OPTILOOP_SAGEMAKER_PREFIX"].startswith("optiloop-")


def test_inference_reads_only_models_and_invokes_only_the_tenants_endpoints(synth: Any) -> None:
    stmts = _role(synth, INFERENCE)
    acts = actions(stmts)
    assert "s3:PutObject" not in acts and "s3:DeleteObject" not in acts
    reads = [flat(r) for a, r in resources_for(stmts, "s3:") if a == "s3:GetObject"]
    assert reads and all(r.endswith("/models/*") for r in reads), reads
    sagemaker = {a for a in acts if a.startswith("sagemaker:")}
    assert sagemaker == {"sagemaker:InvokeEndpoint"}
    [(_, target)] = [(a, flat(r)) for a, r in resources_for(stmts, "sagemaker:")]
    assert ":endpoint/optiloop-" in target and target.endswith("-*")
    others = actions(without_token_secret(stmts))
    assert not {a for a in others if a.startswith(("bedrock:", "iam:", "secretsmanager:"))}
    assert "dynamodb:Scan" not in acts


def test_deployments_manage_endpoints_of_the_tenant_only(synth: Any) -> None:
    stmts = _role(synth, DEPLOYMENTS)
    acts = actions(stmts)
    assert {"sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:CreateModel"} <= acts
    assert "sagemaker:InvokeEndpoint" not in acts and "sagemaker:DeleteEndpoint" not in acts
    targets = {flat(r) for _, r in resources_for(stmts, "sagemaker:")}
    assert targets and all("/optiloop-" in t and t.endswith("-*") for t in targets), targets
    writes = [flat(r) for a, r in resources_for(stmts, "s3:") if a == "s3:PutObject"]
    assert writes and all(r.endswith("/models/*") for r in writes)  # batch predictions only


def test_routes_go_to_their_functions_and_predict_is_a_whole_segment(synth: Any) -> None:
    groups = {(r.method, r.path): r.group for r in ROUTES}
    assert groups[("POST", "/v1/deployments")] == "deployments"
    assert groups[("GET", "/v1/deployments/{deployment_id}/metrics")] == "deployments"
    assert groups[("POST", "/v1/inference/{deployment_id}:predict")] == "inference"
    assert gateway_path("/v1/inference/{deployment_id}:predict") == "/v1/inference/{deployment_id}"
    parts = {
        r["Properties"]["PathPart"] for r in synth.resources("acme", "AWS::ApiGateway::Resource").values()
    }
    assert "inference" in parts and not any(p.endswith(":predict") for p in parts)


def test_framework_models_run_as_a_read_only_endpoint_role_only_deployers_may_pass(synth: Any) -> None:
    template = synth.templates["acme"]
    roles = synth.resources("acme", "AWS::IAM::Role")
    [(role_id, role)] = [(k, v) for k, v in roles.items() if k.startswith("EndpointsRole")]
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "sagemaker.amazonaws.com"}
    actions = {
        a
        for s in statements(template, role_id)
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "s3:GetObject" in actions and not {"s3:PutObject", "s3:DeleteObject"} & actions
    passers = set()
    for f in synth.resources("acme", "AWS::Lambda::Function").values():
        for s in statements(template, logical_id_of(f["Properties"]["Role"])):
            if s["Action"] == "iam:PassRole" and role_id in str(s["Resource"]):
                assert s["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
                passers.add(f["Properties"]["Handler"])
    assert passers == {"functions.deployments.handler.handler", "functions.workflow_steps.handler.handler"}


def test_only_registering_and_deciding_functions_mirror_model_packages_of_the_tenant(synth: Any) -> None:
    """Model versions are mirrored to SageMaker model package groups (optiloop.models.registry.mirror)
    by the functions that register, archive or decide on them; nobody else touches the registry."""
    mirroring = {
        "functions.models.handler.handler",
        "functions.approvals.handler.handler",
        "functions.workflow_steps.handler.handler",
    }
    for handler, props in _functions(synth).items():
        stmts = _role(synth, handler)
        package_acts = {a for a in actions(stmts) if "ModelPackage" in a}
        env = props["Environment"]["Variables"]
        if handler in mirroring:
            assert package_acts == {
                "sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelPackage",
                "sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage",
            }, handler  # fmt: skip
            assert env["OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX"].startswith("optiloop-")
            targets = {flat(r) for a, r in resources_for(stmts, "sagemaker:") if "ModelPackage" in a}
            assert targets and all(":model-package" in t and "/optiloop-" in t for t in targets), targets
            assert "sagemaker:DeleteModelPackage" not in actions(stmts)
        else:
            assert not package_acts and "OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX" not in env, handler
