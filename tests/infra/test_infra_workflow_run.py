"""The experiment workflow, executed: the synthesized state machine runs in moto's Step Functions.

What is real: the ASL exactly as synthesized from optiloop.workflows.experiment (intrinsics resolved
to fake ARNs), moto's interpreter executing it, the Lambda tasks, which run the real
`functions.workflow_steps.handler.handler` in this process on the DynamoDB and S3 adapters, the
SageMaker trainer (boto3 create/describe_training_job against moto's SageMaker), the registry, the
approvals module and the SNS failure notice.

How the Lambda tasks reach Python: moto's Docker-less Lambda backend (`use_docker: False`) only
echoes payloads, so its `invoke` is patched to import the function's Handler string and call it with
the payload, reporting an exception the way Lambda does (FunctionError + errorType), which is what
the state machine's Catch on `NothingToTrain` matches. The handlers get their ports from the DynamoDB
and S3 adapters on moto (`open_aws`), or the in-memory store where that factory is absent.

SageMaker's side: moto's training jobs complete at once and write nothing, so the test puts a small
valid model.tar.gz where the job reports its artifact as soon as the job is created (what the
training container would have written); "Failed" comes from a botocore Stubber on the trainer's
SageMaker client.
"""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto", reason="the workflow test runs the state machine in moto")
pytest.importorskip("aws_lambda_powertools", reason="the workflow steps run with Powertools")

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from cfn_fake import ACCOUNT, REGION, Resolver, physical_name
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps
from optiloop.models.artifact import pack_files
from optiloop.models.training.sagemaker import SageMakerTrainer
from optiloop.projects import create_project
from optiloop.testopt.constraints import add_constraint
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.testopt.suggest import SuggestRequest, suggest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

REPO = Path(__file__).resolve().parents[2]
MOTO = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
SPACE = {"params": {"qps": {"type": "integer", "min": 1, "max": 100}, "cache": {"type": "boolean"}}}


@dataclass
class FakeContext:
    function_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_python_handler(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """moto's invoke, but running the function's Handler in this process."""
    fn = self.get_function(function_name, qualifier)
    module, attr = fn.handler.rsplit(".", 1)
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), attr)
    try:
        result = handler(json.loads(body or b"{}"), FakeContext(fn.function_name))
    except Exception as exc:  # Lambda's shape of an unhandled error; Step Functions matches errorType
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result).encode()


@dataclass
class Deployment:
    deps: Deps
    bucket: str
    state_machine_arn: str
    notices: str  # an SQS queue subscribed to the alarm topic

    def start(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
        )["executionArn"]
        # moto runs the execution on its own thread: poll gently (a tight loop starves it of the GIL),
        # and leave room for the first execution in a process, which warms moto's ASL parser (ANTLR)
        deadline = time.monotonic() + 240
        while True:
            ex = sfn.describe_execution(executionArn=arn)
            if ex["status"] != "RUNNING" or time.monotonic() > deadline:
                return ex
            time.sleep(0.05)

    def visited(self, execution_arn: str) -> list[str]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def notice(self) -> dict[str, Any]:
        sqs = boto3.client("sqs", region_name=REGION)
        [msg] = sqs.receive_message(QueueUrl=self.notices, WaitTimeSeconds=1).get("Messages", [])
        return json.loads(json.loads(msg["Body"])["Message"])

    def project(self, runs: int) -> str:
        pid = create_project(self.deps, OPERATOR, f"wf-{uuid.uuid4().hex[:6]}").id
        add_constraint(self.deps, OPERATOR, pid, name="base", type="hard", weight=None, json_schema=SPACE)
        if runs:
            out = suggest(self.deps, pid, SuggestRequest(generator="random", batch_size=runs, seed=1), "ci")
            reports = [
                RunReport(test_id=t["id"], status="pass", buckets_hit=(i,))
                for i, t in enumerate(out["tests"])
            ]
            ingest_runs(self.deps, OPERATOR, pid, reports)
        return pid


def _ports(table: str, bucket: str) -> Deps:
    from optiloop.store import factory
    from optiloop.store.dynamodb import table_spec

    boto3.client("dynamodb", region_name=REGION).create_table(**table_spec.create_table_kwargs(table))
    return Deps(*factory.open_aws(table, bucket, region=REGION))


STUMP = {
    "format": "optiloop.trees/1",
    "n_features": 1,
    "n_outputs": 1,
    "base_margin": [0.0],
    "link": "logistic",
    "trees": [
        {
            "output": 0,
            "feature": [0, 0, 0],
            "threshold": [0.5, 0, 0],
            "left": [1, -1, -1],
            "right": [2, -1, -1],
            "default_left": [1, 0, 0],
            "value": [0, -1.0, 1.0],
        }
    ],
}


def trained_artifact() -> bytes:
    """What the training container would leave in SM_MODEL_DIR, packed as SageMaker packs it."""
    manifest = {
        "format": "optiloop.model/1",
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "model.trees.json",
        "metrics": {"auc": 0.81},
        "signature": {"task": "binary", "classes": [0, 1], "inputs": [{"name": "x", "type": "number"}]},
    }
    return pack_files(
        {"optiloop-model.json": json.dumps(manifest).encode(), "model.trees.json": json.dumps(STUMP).encode()}
    )


@pytest.fixture
def deployment(synth: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    template = synth.templates["acme"]
    resolve = Resolver(template)
    sm_id, sm = synth.state_machine("acme", "experiment")  # the AutoML one: test_infra_automl_fanout
    asl = json.loads(resolve(sm["Properties"]["DefinitionString"]))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", run_python_handler)

    with mock_aws(config=MOTO):
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]},
                }
            ],
        }
        role_arn = iam.create_role(RoleName="workflow-test", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]

        bucket_id = next(
            k for k in synth.resources("acme", "AWS::S3::Bucket") if k.startswith("DataArtifacts")
        )
        bucket = physical_name(bucket_id)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        [topic_id] = synth.resources("acme", "AWS::SNS::Topic")
        topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name=physical_name(topic_id))[
            "TopicArn"
        ]
        assert topic_arn == resolve({"Ref": topic_id})
        sqs = boto3.client("sqs", region_name=REGION)
        notices = sqs.create_queue(QueueName="notices")["QueueUrl"]
        notices_arn = sqs.get_queue_attributes(QueueUrl=notices, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=notices_arn
        )

        lambdas = boto3.client("lambda", region_name=REGION)
        functions = {resolve.arn(k): k for k in synth.resources("acme", "AWS::Lambda::Function")}
        created: set[str] = set()
        for state in asl["States"].values():
            # payload_response_only: the task's Resource is the function's ARN itself
            fn_arn = state.get("Resource", "")
            if fn_arn.startswith("arn:aws:lambda:") and fn_arn not in created:
                lid = functions[fn_arn]
                lambdas.create_function(
                    FunctionName=physical_name(lid),
                    Runtime="python3.11",
                    Role=role_arn,
                    Handler=template["Resources"][lid]["Properties"]["Handler"],
                    Code={"ZipFile": b"in-process"},
                )
                created.add(fn_arn)

        deps = _ports(f"optiloop-acme-{uuid.uuid4().hex[:6]}", bucket)
        trainer = SageMakerTrainer(
            REPO / "training_jobs",
            bucket=bucket,
            role_arn=role_arn,
            job_prefix="optiloop-acme",
            region=REGION,
        )
        real_submit = trainer.submit

        def submit_and_write(spec: Any) -> str:
            """SageMaker runs the job; its container writes model.tar.gz where the job reports it."""
            name = real_submit(spec)
            if spec.hyperparameters.get("outcome") != "no-model":
                desc = boto3.client("sagemaker", region_name=REGION).describe_training_job(
                    TrainingJobName=name
                )
                key = trainer.key_of(desc["ModelArtifacts"]["S3ModelArtifacts"])
                deps.blobs.put(key, trained_artifact())
            return name

        trainer.submit = submit_and_write  # type: ignore[method-assign]
        deps.trainer = trainer
        steps = importlib.import_module("functions.workflow_steps.handler")
        monkeypatch.setattr(steps, "process_deps", lambda: deps)

        sm_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=physical_name(sm_id), definition=json.dumps(asl), roleArn=role_arn
        )["stateMachineArn"]
        yield Deployment(deps, bucket, sm_arn, notices)


def request(pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "execution_id": "wfx_" + uuid.uuid4().hex[:12],
        "project_id": pid,
        "started_by": {"name": "alice", "role": "admin", "project_id": None},
        "entry_point": "surrogate",
        "hyperparameters": {},
        "inputs": {"train": {"project_runs": pid}},
        "model": {"name": "surrogate"},
        "evaluation": {"metric": "auc", "min_value": 0.5, "must_beat_production": True},
        "approval": False,
        "deploy": None,
        "min_runs": 1,
        "poll_seconds": 0,
        "approval_poll_seconds": 0,
        **extra,
    }


def test_trains_on_sagemaker_registers_and_deploys(deployment: Deployment) -> None:
    pid = deployment.project(runs=4)
    body = request(pid, deploy={"environment": "staging", "strategy": None, "slos": None})
    ex = deployment.start(body["execution_id"], body)
    assert ex["status"] == "SUCCEEDED", ex
    out = json.loads(ex["output"])
    assert out["training"]["status"] == "Completed" and out["verdict"]["value"] == 0.81
    visited = deployment.visited(ex["executionArn"])
    assert visited[:3] == ["Prepare", "StartTraining", "WaitForTraining"]
    assert visited[-6:] == [
        "TrainingStatus",
        "Evaluate",
        "EvaluationGate",
        "Register",
        "AfterRegister",
        "Deploy",
    ]

    job = deployment.deps.store.docs.get("training_job", out["training"]["job_id"]).data
    sm = boto3.client("sagemaker", region_name=REGION).describe_training_job(
        TrainingJobName=job["backend_job_name"]
    )
    assert job["backend_job_name"].startswith("optiloop-acme-")
    [channel] = sm["InputDataConfig"]
    assert channel["DataSource"]["S3DataSource"]["S3Uri"].startswith(
        f"s3://{deployment.bucket}/training/{pid}/"
    )
    version = deployment.deps.store.docs.get("model_version", out["version"]["model_version_id"]).data
    assert version["source"] == {"training_job_id": job["id"]} and version["metrics"]["auc"] == 0.81
    dep = deployment.deps.store.docs.get("model_deployment", out["deployment"]["deployment_id"])
    assert dep is not None and dep.data["environment"] == "staging"


def test_too_few_runs_ends_quietly_without_a_training_job(deployment: Deployment) -> None:
    pid = deployment.project(runs=0)
    body = request(pid)
    ex = deployment.start(body["execution_id"], body)
    assert ex["status"] == "SUCCEEDED", ex
    assert deployment.visited(ex["executionArn"]) == ["Prepare", "Skipped"]
    assert boto3.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"] == []


def test_a_job_that_leaves_no_model_fails_the_execution_and_tells_operators(deployment: Deployment) -> None:
    pid = deployment.project(runs=3)
    body = request(pid, hyperparameters={"outcome": "no-model"})
    ex = deployment.start(body["execution_id"], body)
    assert ex["status"] == "FAILED", (deployment.visited(ex["executionArn"]), ex.get("output"))
    assert ex.get("error") == "OptiLoop.WorkflowFailed"
    visited = deployment.visited(ex["executionArn"])
    assert visited[-4:] == ["TrainingStatus", "RecordFailure", "NotifyFailure", "Failed"]
    notice = deployment.notice()
    assert notice["tenant"] == "acme" and notice["failure"]["Error"] == "TrainingJobFailed"
    assert "model.tar.gz" in notice["failure"]["Cause"]
    [audited] = deployment.deps.store.audit.list(project_id=pid, action="workflow.failed")
    assert audited.target == body["execution_id"]
    assert deployment.deps.store.docs.list("model_version", "x") == []


def test_a_failing_step_is_caught_and_recorded(deployment: Deployment) -> None:
    body = request("prj_missing")
    ex = deployment.start(body["execution_id"], body)
    assert ex["status"] == "FAILED", ex
    notice = deployment.notice()
    assert notice["failure"]["Error"] == "NotFound" and "prj_missing" in notice["failure"]["Cause"]
    assert deployment.visited(ex["executionArn"]) == ["Prepare", "RecordFailure", "NotifyFailure", "Failed"]
