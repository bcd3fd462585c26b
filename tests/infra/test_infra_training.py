"""Training jobs' infrastructure: their own function, SageMaker on the tenant's job names only,
iam:PassRole on the one training role, training_jobs/ in the code package, the routes."""

from __future__ import annotations

from typing import Any

from cfn_fake import actions, as_list, flat, logical_id_of, resources_for, statements, without_token_secret
from infra_cdk.routes import ROUTES

HANDLER = "functions.training.handler.handler"


def _function(synth: Any, tenant: str = "acme") -> tuple[str, dict[str, Any]]:
    [(lid, props)] = [
        (lid, f["Properties"])
        for lid, f in synth.resources(tenant, "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == HANDLER
    ]
    return lid, props


def _stmts(synth: Any, tenant: str = "acme") -> list[dict[str, Any]]:
    _, props = _function(synth, tenant)
    return statements(synth.templates[tenant], logical_id_of(props["Role"]))


def test_training_has_its_own_function_configured_for_sagemaker(synth: Any) -> None:
    _, props = _function(synth)
    env = props["Environment"]["Variables"]
    assert env["OPTILOOP_TRAINER"] == "sagemaker"
    assert env["OPTILOOP_TRAINING_JOBS_DIR"] == "/var/task/training_jobs"
    assert env["OPTILOOP_TRAINING_JOB_PREFIX"] == "optiloop-acme"
    [(role_id, _)] = [
        (lid, r)
        for lid, r in synth.resources("acme", "AWS::IAM::Role").items()
        if "sagemaker.amazonaws.com" in flat(r["Properties"]["AssumeRolePolicyDocument"])
        and lid.startswith("WorkflowTrainingRole")  # the endpoints' role (infra_cdk/endpoints.py) is another
    ]
    assert logical_id_of(env["OPTILOOP_TRAINING_ROLE_ARN"]) == role_id  # the workflow's training role
    assert props["Timeout"] <= 29


def test_sagemaker_actions_only_on_the_tenants_training_jobs(synth: Any) -> None:
    for tenant in ("acme", "globex"):
        stmts = _stmts(synth, tenant)
        sm = list(resources_for(stmts, "sagemaker:"))
        assert {a for a, _ in sm} == {
            "sagemaker:CreateTrainingJob",
            "sagemaker:DescribeTrainingJob",
            "sagemaker:StopTrainingJob",
            "sagemaker:AddTags",
        }
        assert all(flat(r).endswith(f":training-job/optiloop-{tenant}-*") for _, r in sm), sm
        assert not any(a.endswith("*") for a in actions(stmts))
        others = actions(without_token_secret(stmts))
        assert not {a for a in others if a.startswith(("bedrock:", "secretsmanager:"))}


def test_pass_role_only_for_the_training_role_and_only_to_sagemaker(synth: Any) -> None:
    stmts = _stmts(synth)
    passes = [s for s in stmts if "iam:PassRole" in as_list(s["Action"])]
    assert len(passes) == 1
    [target] = as_list(passes[0]["Resource"])
    role = synth.templates["acme"]["Resources"][logical_id_of(target)]
    assert "sagemaker.amazonaws.com" in flat(role["Properties"]["AssumeRolePolicyDocument"])
    assert passes[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_reads_logs_of_sagemaker_training_jobs_only_and_writes_training_and_models(synth: Any) -> None:
    stmts = _stmts(synth)
    logs = [
        (a, flat(r))
        for a, r in resources_for(stmts, "logs:")
        if a in ("logs:FilterLogEvents", "logs:GetLogEvents")
    ]
    assert logs and all("log-group:/aws/sagemaker/TrainingJobs" in r for _, r in logs)
    puts = {flat(r) for a, r in resources_for(stmts, "s3:") if a == "s3:PutObject"}
    assert puts and all(r.endswith(("/training/*", "/models/*")) for r in puts), puts
    gets = {flat(r) for a, r in resources_for(stmts, "s3:") if a == "s3:GetObject"}
    assert any(r.endswith("/datasets/*") for r in gets)
    assert "s3:DeleteObject" not in actions(stmts)


def test_routes_go_to_the_training_function(synth: Any) -> None:
    mine = {(r.method, r.path) for r in ROUTES if r.group == "training"}
    assert mine == {
        ("POST", "/v1/training_jobs"),
        ("GET", "/v1/training_jobs/{job_id}"),
        ("GET", "/v1/projects/{project_id}/training_jobs"),
        ("POST", "/v1/training_jobs/{job_id}/stop"),
        ("GET", "/v1/training_jobs/{job_id}/logs"),
    }
    stop = next(r for r in ROUTES if r.path.endswith("/stop") and r.group == "training")
    assert not stop.has_body  # a bodiless POST: the gateway must not demand a JSON object
